using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Licenzy.Sandbox.Account;
using Licenzy.Testing;
using Microsoft.Playwright;

namespace Licenzy.Sandbox.Tests;

/// <summary>
/// Runs where Debian's <c>chromium</c> is on PATH (.ci/run installs it). Without it the test is
/// skipped locally, with the reason, but in CI (<c>CI=true</c>) it runs and fails saying what is missing.
/// The reason is also written into the test's name: `dotnet test` at its default verbosity names a
/// skipped test but leaves out xunit's reason.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute([CallerMemberName] string test = "")
    {
        if (Chromium.Path is not null || Chromium.InCi) return;
        Skip = "needs chromium on PATH (apt-get install chromium; .ci/run installs it); in CI this test fails instead";
        DisplayName = $"{test} (skipped: {Skip})";
    }
}

public static class Chromium
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Debian's chromium; Playwright's own browser download is not used.</summary>
    public static string? Path { get; } = new[] { "chromium", "chromium-browser" }
        .SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator)
            .Select(dir => System.IO.Path.Combine(dir, name)))
        .FirstOrDefault(File.Exists);
}

/// <summary>
/// The spec's own check: Licenzy runs as a real process with the sandbox on (Development), a
/// real headless browser opens the checkout URL Licenzy returned and clicks Pay, and access follows.
/// </summary>
public sealed class BrowserCheckoutTests : IAsyncLifetime
{
    private const string AdminToken = "browser-test-admin-token-0123456789";
    private static readonly TimeSpan AccessWait = TimeSpan.FromSeconds(30);

    private readonly string _dataPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));
    private LicenzyProcess? _licenzy;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_licenzy is not null) await _licenzy.DisposeAsync();
        if (Directory.Exists(_dataPath)) Directory.Delete(_dataPath, recursive: true);
    }

    [ChromiumFact]
    public async Task Clicking_Pay_in_a_real_browser_grants_access()
    {
        var chromium = Chromium.Path
            ?? throw new InvalidOperationException("CI=true but chromium is not on PATH: install Debian's chromium package (.ci/run does).");
        _licenzy = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Development", new Dictionary<string, string?>
        {
            ["Licenzy:DataPath"] = _dataPath, ["Licenzy:AdminToken"] = AdminToken,
        });
        using var admin = _licenzy.Client(AdminToken);
        var tenantId = await SetUpTenantAsync(admin);
        using var runtime = _licenzy.Client(await RuntimeKeyAsync(admin, tenantId));
        var checkoutUrl = await StartCheckoutAsync(runtime);
        Assert.StartsWith(new Uri(_licenzy.BaseUrl, "/sandbox/checkout/cs_test_").AbsoluteUri, checkoutUrl);
        Assert.False(await IsAllowedAsync(runtime));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // Containers and CI often run as root, where Chromium's own sandbox cannot start.
            Args = ["--no-sandbox"],
        });
        var page = await browser.NewPageAsync();
        var opened = await page.GotoAsync(checkoutUrl);
        Assert.Equal((int)HttpStatusCode.OK, opened!.Status);
        await Assertions.Expect(page.Locator("#amount")).ToContainTextAsync("$19.00");

        await page.Locator("#pay").ClickAsync();

        await page.WaitForURLAsync("**/complete");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Payment complete");
        await Assertions.Expect(page.Locator("li[data-state=delivered]")).ToHaveCountAsync(3);
        Assert.True(await Eventually.TrueAsync(() => IsAllowedAsync(runtime), AccessWait), $"access was not allowed within {AccessWait.TotalSeconds} s:\n{_licenzy.Output}");
    }

    private static async Task<string> SetUpTenantAsync(HttpClient admin)
    {
        var tenant = await Json(await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "Browser" }), HttpStatusCode.Created);
        var tenantId = tenant.GetProperty("tenant_id").GetString()!;
        await Json(await admin.PutAsJsonAsync($"/v1/admin/tenants/{tenantId}/modes/test/stripe",
            new { secret_key = "sk_test_browser", webhook_secret = SandboxOptions.DefaultWebhookSecret }), HttpStatusCode.OK);
        await Json(await admin.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/modes/test/products",
            new { code = "PRO_MONTHLY", kind = "subscription", stripe_price_id = SeededPrices.ProMonthly }), HttpStatusCode.Created);
        return tenantId;
    }

    private static async Task<string> RuntimeKeyAsync(HttpClient admin, string tenantId) =>
        (await Json(await admin.PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/modes/test/api-keys", new { name = "browser" }), HttpStatusCode.Created))
        .GetProperty("key").GetString()!;

    private static async Task<string> StartCheckoutAsync(HttpClient runtime) =>
        (await Json(await runtime.PostAsJsonAsync("/v1/checkout/session", new { subject_ref = "browser_user", product_code = "PRO_MONTHLY" }), HttpStatusCode.OK))
        .GetProperty("checkout_url").GetString()!;

    private static async Task<bool> IsAllowedAsync(HttpClient runtime) =>
        (await Json(await runtime.PostAsJsonAsync("/v1/access/check", new { subject_ref = "browser_user" }), HttpStatusCode.OK))
        .GetProperty("allowed").GetBoolean();

    private static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement;
    }
}

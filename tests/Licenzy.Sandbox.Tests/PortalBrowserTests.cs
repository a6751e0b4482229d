using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Sandbox.Account;
using Licenzy.Testing;
using Microsoft.Playwright;

namespace Licenzy.Sandbox.Tests;

/// <summary>
/// The operator portal in a real headless browser against Licenzy running as a process
/// (Development, so with the sandbox for Stripe): from an empty store to a working API key and a
/// bought entitlement seen in the subject view, by keyboard and labels as an operator would, with
/// a screenshot of each step kept under artifacts/test-results/portal/.
/// </summary>
public sealed class PortalBrowserTests : IAsyncLifetime
{
    private const string AdminToken = "portal-browser-admin-token-0123456789";
    private static readonly TimeSpan AccessWait = TimeSpan.FromSeconds(30);

    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));
    private readonly string _screenshots = ScreenshotFolder();
    private LicenzyProcess? _licenzy;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_licenzy is not null) await _licenzy.DisposeAsync();
        if (Directory.Exists(_dataPath)) Directory.Delete(_dataPath, recursive: true);
    }

    [ChromiumFact]
    public async Task An_operator_sets_up_a_tenant_in_the_portal_and_sees_a_purchase_in_the_subject_view()
    {
        var chromium = Chromium.Path
            ?? throw new InvalidOperationException("CI=true but chromium is not on PATH: install Debian's chromium package (.ci/run does).");
        _licenzy = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Development", new Dictionary<string, string?>
        {
            ["Licenzy:DataPath"] = _dataPath, ["Licenzy:AdminToken"] = AdminToken,
        });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"],
        });
        var page = await browser.NewPageAsync();
        var portal = new Uri(_licenzy.BaseUrl, "/portal").AbsoluteUri;

        // No session: to sign-in. A wrong token is refused there.
        await page.GotoAsync(portal);
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/portal/sign-in"));
        await page.GetByLabel("Admin token").FillAsync("wrong-token");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("That is not the admin token.");
        await ShotAsync(page, "01-sign-in-refused");

        // Signed in by keyboard: type the token, press Enter.
        await page.GetByLabel("Admin token").FillAsync(AdminToken);
        await page.GetByLabel("Admin token").PressAsync("Enter");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tenants", Level = 1 })).ToBeVisibleAsync();
        await ShotAsync(page, "02-tenants-empty");

        await page.GetByLabel("Name").FillAsync("Acme");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create tenant" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Acme");
        var tenantPage = page.Url;
        var tenantId = tenantPage.Split('/')[^2];

        await page.GetByLabel("Secret key").FillAsync("sk_test_portal");
        await page.GetByLabel("Webhook signing secret").FillAsync(SandboxOptions.DefaultWebhookSecret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect Stripe" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Stripe is connected in test mode");
        await Assertions.Expect(page.Locator("#webhook-url")).ToContainTextAsync($"/v1/webhooks/stripe/{tenantId}/test");

        await page.GetByLabel("Code").FillAsync("PRO_MONTHLY");
        await page.GetByLabel("Kind").SelectOptionAsync("subscription");
        await page.GetByLabel("Stripe price id").FillAsync(SeededPrices.ProMonthly);
        await page.GetByLabel("Features").FillAsync("export, reports");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create product" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Product PRO_MONTHLY is on sale.");
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "PRO_MONTHLY", Exact = true })).ToBeVisibleAsync();

        await page.GetByLabel("Product", new() { Exact = true }).SelectOptionAsync("PRO_MONTHLY");
        await page.GetByLabel("New name").FillAsync("Pro, monthly");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change product" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("PRO_MONTHLY is changed.");
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "Pro, monthly" })).ToBeVisibleAsync();

        await page.GetByLabel("Name of a new key").FillAsync("backend");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create API key" }).ClickAsync();
        var apiKey = (await page.Locator("#new-key").TextContentAsync())!.Trim();

        // The tenant's app hears of changes: the sandbox's receiver stands in for it.
        await page.GetByLabel("Endpoint URL").FillAsync(new Uri(_licenzy.BaseUrl, "/sandbox/receiver").AbsoluteUri);
        await page.GetByLabel("Events").FillAsync("entitlements.updated");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add endpoint" }).ClickAsync();
        await Assertions.Expect(page.Locator("#new-secret")).ToContainTextAsync("whsec_");
        await ShotAsync(page, "03-tenant-set-up");

        // The backend, with the key the portal showed: a checkout, paid in the sandbox's page.
        using var runtime = _licenzy.Client(apiKey);
        var checkout = await Json(await runtime.PostAsJsonAsync("/v1/checkout/session", new { subject_ref = "portal_user", product_code = "PRO_MONTHLY" }));
        await page.GotoAsync(checkout.GetProperty("checkout_url").GetString()!);
        await page.Locator("#pay").ClickAsync();
        await page.WaitForURLAsync("**/complete");
        Assert.True(await Eventually.TrueAsync(async () =>
                (await Json(await runtime.PostAsJsonAsync("/v1/access/check", new { subject_ref = "portal_user" }))).GetProperty("allowed").GetBoolean(), AccessWait), $"access was not allowed within {AccessWait.TotalSeconds} s:\n{_licenzy.Output}");

        // The purchase's entitlements.updated reached the endpoint: the deliveries table says so.
        var delivered = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "entitlements.updated" }).Filter(new() { HasText = "delivered" });
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            await page.GotoAsync(tenantPage);
            return await delivered.CountAsync() > 0;
        }, AccessWait, every: TimeSpan.FromMilliseconds(200)), "the purchase's entitlements.updated was not shown delivered");
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "never" })).Not.ToBeVisibleAsync(); // the key was used
        await page.GetByLabel("Subject ref").FillAsync("portal_user");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show the subject" }).ClickAsync();
        await ShotAsync(page, "04-subject");
        var entitlement = page.GetByRole(AriaRole.Table, new() { Name = "Entitlements" }).GetByRole(AriaRole.Row).Filter(new() { HasText = "PRO_MONTHLY" });
        await Assertions.Expect(entitlement).ToContainTextAsync("active");
        await Assertions.Expect(entitlement).ToContainTextAsync("yes");
        await Assertions.Expect(entitlement).ToContainTextAsync("export, reports");
        var history = page.GetByRole(AriaRole.Table, new() { Name = "History" });
        await Assertions.Expect(history).ToContainTextAsync("checkout.session.completed");
        await Assertions.Expect(history).ToContainTextAsync("stripe");

        // Readable on a phone: nothing wider than the screen but the tables, which scroll.
        await page.SetViewportSizeAsync(375, 740);
        await page.GotoAsync(tenantPage);
        var tooWide = await page.EvaluateAsync<string[]>("""
            [...document.querySelectorAll('body *')]
                .filter(e => !e.closest('.table') && e.getBoundingClientRect().right > window.innerWidth + 1)
                .map(e => e.tagName + (e.id ? '#' + e.id : '') + ' ' + Math.round(e.getBoundingClientRect().right))
            """);
        Assert.True(tooWide.Length == 0, "wider than a phone's screen: " + string.Join(", ", tooWide));
        await ShotAsync(page, "05-tenant-on-a-phone");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/portal/sign-in"));
        await page.GotoAsync(tenantPage);
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/portal/sign-in"));
    }

    private async Task ShotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(_screenshots, name + ".png"), FullPage = true });

    /// <summary>artifacts/test-results/portal/ under the repository (git-ignored), kept after the run.</summary>
    private static string ScreenshotFolder()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Licenzy.sln"))) folder = folder.Parent;
        var path = Path.Combine(folder?.FullName ?? Path.GetTempPath(), "artifacts", "test-results", "portal");
        Directory.CreateDirectory(path);
        return path;
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}

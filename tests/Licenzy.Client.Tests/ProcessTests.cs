using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Client.Tests;

/// <summary>
/// The client as a backend uses it, against the standalone app started as a process (Development,
/// so with the offline Stripe sandbox) over TCP: set up with the setup API, a checkout made with
/// the client and paid in the sandbox, then the client's answers.
/// </summary>
public sealed class ProcessTests : IAsyncLifetime
{
    private const string AdminToken = "client-test-admin-token-0123456789";
    private const string SandboxWebhookSecret = "whsec_licenzy_sandbox";

    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));
    private LicenzyProcess? _licenzy;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_licenzy is not null) await _licenzy.DisposeAsync();
        if (Directory.Exists(_dataPath)) Directory.Delete(_dataPath, recursive: true);
    }

    [Fact]
    public async Task A_backend_sells_and_answers_with_the_client_against_a_running_Licenzy()
    {
        _licenzy = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Development", new Dictionary<string, string?>
        {
            ["Licenzy:DataPath"] = _dataPath, ["Licenzy:AdminToken"] = AdminToken,
        });
        using var admin = _licenzy.Client(AdminToken);
        var (tenantId, apiKey) = await SetUpAsync(admin);
        await using var services = new ServiceCollection()
            .AddLicenzyClient(options =>
            {
                options.BaseAddress = _licenzy.BaseUrl;
                options.ApiKey = apiKey;
                options.TenantId = tenantId;
            }).Services.BuildServiceProvider();
        var client = services.GetRequiredService<LicenzyClient>();

        Assert.False(await client.IsAllowedAsync("user_1"));
        Assert.Equal("unknown_product",
            (await Assert.ThrowsAsync<LicenzyApiException>(() => client.CreateCheckoutSessionAsync("user_1", "NOPE"))).Code);
        var checkout = await client.CreateCheckoutSessionAsync("user_1", "PRO_MONTHLY");
        using (var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _licenzy.BaseUrl })
        {
            var paid = await browser.PostAsync(new Uri(checkout.CheckoutUrl).AbsolutePath + "/pay", content: null);
            Assert.Equal(HttpStatusCode.SeeOther, paid.StatusCode);
        }
        Assert.True(await Eventually.TrueAsync(async () => (await client.CheckAccessAsync("user_1")).Allowed, TimeSpan.FromSeconds(30)),
            $"access was not allowed within 30 s:\n{_licenzy.Output}");

        // The "no" held from before the purchase answers until it is forgotten (or expires).
        Assert.False(await client.IsAllowedAsync("user_1"));
        client.ForgetToken("user_1");
        Assert.True(await client.IsAllowedAsync("user_1"));
        Assert.True(await client.IsAllowedAsync("user_1", "export"));
        Assert.False(await client.IsAllowedAsync("user_1", "not_a_feature"));

        var token = await client.GetAccessTokenAsync("user_1");
        Assert.True((await client.VerifyTokenAsync(token.Token, "user_1")).Allows("export"));
        Assert.Equal("PRO_MONTHLY", Assert.Single((await client.GetEntitlementsAsync("user_1")).Entitlements).ProductCode);
    }

    private static async Task<(string TenantId, string ApiKey)> SetUpAsync(HttpClient admin)
    {
        var tenantId = (await Json(await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "Client" }), HttpStatusCode.Created))
            .GetProperty("tenant_id").GetString()!;
        var mode = $"/v1/admin/tenants/{tenantId}/modes/test";
        await Json(await admin.PutAsJsonAsync($"{mode}/stripe", new { secret_key = "sk_test_client", webhook_secret = SandboxWebhookSecret }),
            HttpStatusCode.OK);
        await Json(await admin.PostAsJsonAsync($"{mode}/products",
            new { code = "PRO_MONTHLY", kind = "subscription", stripe_price_id = "price_sandbox_pro_monthly", features = new[] { "export" } }),
            HttpStatusCode.Created);
        var key = (await Json(await admin.PostAsJsonAsync($"{mode}/api-keys", new { name = "client" }), HttpStatusCode.Created))
            .GetProperty("key").GetString()!;
        return (tenantId, key);
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}

using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Licenzy.Infrastructure;
using Xunit;
using StripeNet = global::Stripe;

namespace Licenzy.Testing;

/// <summary>
/// A tenant made for one test through the setup API: Stripe connected for a mode (against the
/// stand-in), products defined, a runtime key issued. Helpers buy things the way Stripe would
/// report it: a signed webhook to the ingest route.
/// </summary>
public sealed class TestTenant
{
    public const string Subscription = "PRO_MONTHLY";
    public const string DayPass = "DAY_PASS";
    public const string Credits = "CREDITS_50";

    private int _events;

    private TestTenant(ILicenzyHost app, string tenantId, string mode)
    {
        App = app;
        TenantId = tenantId;
        Mode = mode;
        Admin = app.AdminClient();
    }

    public ILicenzyHost App { get; }
    public string TenantId { get; }
    public string Mode { get; }
    public HttpClient Admin { get; }
    public string SecretKey { get; private set; } = "";
    public string WebhookSecret { get; private set; } = "";
    public string ApiKey { get; private set; } = "";
    public HttpClient Runtime { get; private set; } = null!;
    public Dictionary<string, string> PriceIds { get; } = new();

    public string ModePath => $"/v1/admin/tenants/{TenantId}/modes/{Mode}";

    /// <summary>A tenant made earlier (by an app that ran on the same data), seen through <paramref name="app"/>'s setup API.</summary>
    public static TestTenant Existing(ILicenzyHost app, string tenantId, string mode) => new(app, tenantId, mode);

    /// <summary>A tenant with Stripe connected, the three standard products, and a runtime key.</summary>
    public static async Task<TestTenant> CreateAsync(ILicenzyHost app, string mode = "test", bool connect = true, bool products = true)
    {
        var admin = app.AdminClient();
        var created = await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "Test tenant" });
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        var tenantId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant_id").GetString()!;
        var tenant = new TestTenant(app, tenantId, mode);
        if (connect) await tenant.ConnectStripeAsync();
        if (connect && products)
        {
            await tenant.DefineProductAsync(new { code = Subscription, kind = "subscription", features = new[] { "export", "api_access" } }, "recurring");
            await tenant.DefineProductAsync(new { code = DayPass, kind = "time_pass", duration_days = 1, features = new[] { "export" } }, "one_time");
            await tenant.DefineProductAsync(new { code = Credits, kind = "usage_pack", usage_units = 50 }, "one_time");
        }
        await tenant.IssueKeyAsync();
        return tenant;
    }

    public async Task ConnectStripeAsync()
    {
        SecretKey = $"sk_{Mode}_{Random(24)}";
        WebhookSecret = $"whsec_{Random(32)}";
        App.Stripe.AddKey(SecretKey, livemode: Mode == "live");
        var response = await Admin.PutAsJsonAsync($"{ModePath}/stripe", new { secret_key = SecretKey, webhook_secret = WebhookSecret });
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>
    /// Puts the Stripe settings again, same key, with another webhook secret (a roll, as after rolling
    /// the endpoint's secret in Stripe's dashboard). Returns the secret it replaced.
    /// </summary>
    public async Task<string> RollWebhookSecretAsync(string? newSecret = null)
    {
        var replaced = WebhookSecret;
        WebhookSecret = newSecret ?? $"whsec_{Random(32)}";
        var response = await Admin.PutAsJsonAsync($"{ModePath}/stripe", new { secret_key = SecretKey, webhook_secret = WebhookSecret });
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return replaced;
    }

    /// <summary>
    /// Connects Stripe with <c>register_webhook: true</c> (a new key when none was connected yet):
    /// Licenzy makes or reuses the endpoint at the stand-in, whose secret then signs this tenant's events.
    /// Returns the setup API's answer.
    /// </summary>
    public async Task<JsonElement> RegisterWebhookAsync()
    {
        if (SecretKey.Length == 0)
        {
            SecretKey = $"sk_{Mode}_{Random(24)}";
            App.Stripe.AddKey(SecretKey, livemode: Mode == "live");
        }

        var response = await Admin.PutAsJsonAsync($"{ModePath}/stripe", new { secret_key = SecretKey, register_webhook = true });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, body.GetRawText());
        var endpointId = body.GetProperty("webhook_endpoint_id").GetString();
        WebhookSecret = App.Stripe.WebhookEndpoints.Single(endpoint => endpoint.Id == endpointId).Secret;
        return body;
    }

    /// <summary>Defines a product whose Stripe price the stand-in knows; the price id is made up here.</summary>
    public async Task<JsonElement> DefineProductAsync(object definition, string priceType)
    {
        var json = JsonSerializer.SerializeToNode(definition)!.AsObject();
        var code = json["code"]!.GetValue<string>();
        var priceId = $"price_{Random(14)}";
        PriceIds[code] = priceId;
        App.Stripe.AddPrice(priceId, active: true, livemode: Mode == "live", type: priceType);
        json["stripe_price_id"] = priceId;
        var response = await Admin.PostAsJsonAsync($"{ModePath}/products", json);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<string> IssueKeyAsync()
    {
        var response = await Admin.PostAsJsonAsync($"{ModePath}/api-keys", new { name = "test" });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        ApiKey = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        Runtime = App.RuntimeClient(ApiKey);
        return ApiKey;
    }

    /// <summary>Starts a checkout through the runtime API and returns the session the stand-in made.</summary>
    public async Task<StandInCheckoutSession> StartCheckoutAsync(string subjectRef, string productCode)
    {
        var response = await Runtime.PostAsJsonAsync("/v1/checkout/session", new { subject_ref = subjectRef, product_code = productCode });
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var url = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checkout_url").GetString();
        return App.Stripe.CheckoutSessions.Single(s => s.Url == url);
    }

    /// <summary>Buys a product the whole way: checkout, then Stripe's signed event; waits until it is applied.</summary>
    public async Task<StandInCheckoutSession> BuyAsync(string subjectRef, string productCode, string paymentStatus = "paid",
        string? email = StripeEvents.DefaultEmail)
    {
        var session = await StartCheckoutAsync(subjectRef, productCode);
        await DeliverAsync(StripeEvents.CheckoutSession("checkout.session.completed", NextEventId(), App.Clock.GetUtcNow(), session,
            paymentStatus, livemode: Mode == "live", customerEmail: email));
        return session;
    }

    public string NextEventId() => $"evt_{TenantId}_{Interlocked.Increment(ref _events)}";

    /// <summary>Sends a signed event to the ingest route.</summary>
    public async Task<HttpResponseMessage> SendWebhookAsync(string body, string? signature = null, string? path = null) =>
        await App.IngestClient().SendAsync(WebhookRequest(body, signature, path));

    /// <summary>An event to the ingest route, signed as Stripe signs it now unless <paramref name="signature"/> is given.</summary>
    public HttpRequestMessage WebhookRequest(string body, string? signature = null, string? path = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path ?? $"/v1/webhooks/stripe/{TenantId}/{Mode}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Stripe-Signature",
            signature ?? StripeNet.EventUtility.GenerateSignatureHeader(body, WebhookSecret, App.Clock.GetUtcNow().ToUnixTimeSeconds()));
        return request;
    }

    /// <summary>Sends a signed event and waits until the Api has handled it.</summary>
    public async Task DeliverAsync(string body)
    {
        var response = await SendWebhookAsync(body);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var eventId = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        await App.Deliveries.WaitAsync(Topics.BillingEvents, eventId);
    }

    public async Task<JsonElement> EntitlementsAsync(string subjectRef) =>
        await Runtime.GetFromJsonAsync<JsonElement>($"/v1/entitlements/{subjectRef}");

    public async Task<bool> IsAllowedAsync(string subjectRef, string? feature = null)
    {
        var response = await Runtime.PostAsJsonAsync("/v1/access/check", feature is null ? new { subject_ref = subjectRef } : (object)new { subject_ref = subjectRef, feature });
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("allowed").GetBoolean();
    }

    private static string Random(int length) => RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", length);
}

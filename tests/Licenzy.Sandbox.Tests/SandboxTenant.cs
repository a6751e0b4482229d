using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.PubSub;
using Licenzy.Sandbox.Account;

namespace Licenzy.Sandbox.Tests;

/// <summary>A checkout Licenzy started: its id on the sandbox and where the buyer pays.</summary>
public sealed record SandboxCheckout(string SessionId, string Url, string AttemptId);

/// <summary>An event the sandbox delivered, as its answers list them.</summary>
public sealed record Delivered(string Id, string Type);

/// <summary>
/// A tenant set up the way the sandbox's docs tell an operator to: Stripe connected for test mode
/// with any sk_test_ key and the sandbox's webhook secret, products on the seeded sandbox prices,
/// a runtime key. Helpers buy through the sandbox's checkout page and pull its triggers.
/// </summary>
public sealed partial class SandboxTenant
{
    public const string Subscription = "PRO_MONTHLY";
    public const string DayPass = "DAY_PASS";
    public const string Credits = "CREDITS_100";

    private SandboxTenant(SandboxedLicenzy app, string tenantId)
    {
        App = app;
        TenantId = tenantId;
        Admin = app.AdminClient();
    }

    public SandboxedLicenzy App { get; }
    public string TenantId { get; }
    public HttpClient Admin { get; }
    public HttpClient Runtime { get; private set; } = null!;
    public string ModePath => $"/v1/admin/tenants/{TenantId}/modes/test";

    /// <param name="registerWebhook">Connect with <c>register_webhook: true</c> (Licenzy registers its endpoint with the sandbox) instead of the sandbox's fixed secret.</param>
    public static async Task<SandboxTenant> CreateAsync(
        SandboxedLicenzy app, string webhookSecret = SandboxOptions.DefaultWebhookSecret, bool registerWebhook = false)
    {
        var created = await app.AdminClient().PostAsJsonAsync("/v1/admin/tenants", new { name = "Sandbox tenant" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var tenant = new SandboxTenant(app, (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant_id").GetString()!);
        if (registerWebhook) await tenant.RegisterWebhookAsync();
        else await tenant.ConnectStripeAsync(webhookSecret);
        await tenant.DefineAsync(new { code = Subscription, kind = "subscription", stripe_price_id = SeededPrices.ProMonthly, features = new[] { "export" } });
        await tenant.DefineAsync(new { code = DayPass, kind = "time_pass", stripe_price_id = SeededPrices.DayPass, duration_days = 1 });
        await tenant.DefineAsync(new { code = Credits, kind = "usage_pack", stripe_price_id = SeededPrices.Credits100, usage_units = 100 });
        var key = await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/api-keys", new { name = "backend" });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        tenant.Runtime = app.RuntimeClient((await key.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!);
        return tenant;
    }

    /// <summary>Any sk_test_ key will do; the webhook secret must be the sandbox's for its webhooks to be accepted.</summary>
    public async Task ConnectStripeAsync(string webhookSecret)
    {
        var response = await Admin.PutAsJsonAsync($"{ModePath}/stripe", new
        {
            secret_key = "sk_test_" + RandomNumberGenerator.GetHexString(24, lowercase: true), webhook_secret = webhookSecret,
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Connects Stripe with <c>register_webhook: true</c> and returns the setup API's answer.</summary>
    public async Task<JsonElement> RegisterWebhookAsync()
    {
        var response = await Admin.PutAsJsonAsync($"{ModePath}/stripe", new
        {
            secret_key = "sk_test_" + RandomNumberGenerator.GetHexString(24, lowercase: true), register_webhook = true,
        });
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, answer.GetRawText());
        return answer;
    }

    public async Task DefineAsync(object product)
    {
        var response = await Admin.PostAsJsonAsync($"{ModePath}/products", product);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Starts a checkout through Licenzy's runtime API, which asks the sandbox for the session.</summary>
    public async Task<SandboxCheckout> CheckoutAsync(string subjectRef, string productCode, string? successUrl = null, string? cancelUrl = null)
    {
        var response = await Runtime.PostAsJsonAsync("/v1/checkout/session",
            new Dictionary<string, string?> { ["subject_ref"] = subjectRef, ["product_code"] = productCode, ["success_url"] = successUrl, ["cancel_url"] = cancelUrl }
                .Where(field => field.Value is not null).ToDictionary());
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var url = body.GetProperty("checkout_url").GetString()!;
        return new SandboxCheckout(url[(url.LastIndexOf('/') + 1)..], url, body.GetProperty("attempt_id").GetString()!);
    }

    /// <summary>
    /// Presses Pay on the checkout page (a form POST), without following the redirect: with the
    /// email field as given, or, without one, as a Pay sent without the page's form.
    /// </summary>
    public Task<HttpResponseMessage> PayAsync(SandboxCheckout checkout, string? email = null) =>
        App.BrowserClient().PostAsync($"/sandbox/checkout/{checkout.SessionId}/pay",
            email is null ? null : new FormUrlEncodedContent([KeyValuePair.Create("email", email)]));

    public Task<HttpResponseMessage> CancelAsync(SandboxCheckout checkout) =>
        App.BrowserClient().PostAsync($"/sandbox/checkout/{checkout.SessionId}/cancel", content: null);

    /// <summary>The webhooks the session's payment sent, as its "payment complete" page lists them.</summary>
    public async Task<IReadOnlyList<Delivered>> SessionEventsAsync(SandboxCheckout checkout)
    {
        var page = await App.BrowserClient().GetStringAsync($"/sandbox/checkout/{checkout.SessionId}/complete");
        return [.. ListedEvent().Matches(page).Select(m => new Delivered(m.Groups["id"].Value, m.Groups["type"].Value))];
    }

    /// <summary>Checkout, Pay, and wait until Licenzy applied what the sandbox delivered.</summary>
    public async Task<(SandboxCheckout Checkout, IReadOnlyList<Delivered> Events)> BuyAsync(string subjectRef, string productCode)
    {
        var checkout = await CheckoutAsync(subjectRef, productCode);
        var paid = await PayAsync(checkout);
        Assert.True(paid.StatusCode == HttpStatusCode.SeeOther, await paid.Content.ReadAsStringAsync());
        var events = await SessionEventsAsync(checkout);
        await AppliedAsync(events);
        return (checkout, events);
    }

    public Task<HttpResponseMessage> TriggerAsync(string subjectRef, string eventName, string? productCode = null) =>
        Admin.PostAsJsonAsync("/sandbox/triggers", new Dictionary<string, string?>
        {
            ["tenant_id"] = TenantId, ["subject_ref"] = subjectRef, ["event"] = eventName, ["product_code"] = productCode,
        });

    /// <summary>Pulls a trigger that must work; returns what was delivered, once Licenzy applied it.</summary>
    public async Task<IReadOnlyList<Delivered>> TriggerAppliedAsync(string subjectRef, string eventName, string? productCode = null)
    {
        var response = await TriggerAsync(subjectRef, eventName, productCode);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var events = Events(await response.Content.ReadFromJsonAsync<JsonElement>());
        await AppliedAsync(events);
        return events;
    }

    public static IReadOnlyList<Delivered> Events(JsonElement answer) =>
        [.. answer.GetProperty("events").EnumerateArray().Select(e => new Delivered(e.GetProperty("id").GetString()!, e.GetProperty("type").GetString()!))];

    /// <summary>
    /// Waits until Licenzy's billing-events subscriber has handled each event, and checks that it
    /// took it (did not drop it). What it did with it is Licenzy's lifecycle, not the sandbox's.
    /// </summary>
    public async Task AppliedAsync(IEnumerable<Delivered> events)
    {
        foreach (var delivered in events)
        {
            var result = await App.Deliveries.WaitAsync(Topics.BillingEvents, delivered.Id);
            Assert.True(result.Status == DeliveryStatus.Success, $"{delivered.Type} {delivered.Id}: {result.Status} {result.Reason}");
        }
    }

    public async Task<JsonElement> DeadLettersAsync() =>
        (await Admin.GetFromJsonAsync<JsonElement>($"{ModePath}/dead-letters")).GetProperty("events");

    public async Task<bool> IsAllowedAsync(string subjectRef)
    {
        var response = await Runtime.PostAsJsonAsync("/v1/access/check", new { subject_ref = subjectRef });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("allowed").GetBoolean();
    }

    public async Task<JsonElement> EntitlementsAsync(string subjectRef) =>
        (await Runtime.GetFromJsonAsync<JsonElement>($"/v1/entitlements/{subjectRef}")).GetProperty("entitlements");

    /// <summary>The webhooks Licenzy accepted for this tenant.</summary>
    public SentWebhook Webhook(Delivered delivered) => App.Webhooks.Accepted(TenantId, delivered.Id);

    public IReadOnlyList<SentWebhook> Webhooks => App.Webhooks.To(TenantId);

    [GeneratedRegex("data-event-id=\"(?<id>[^\"]+)\" data-event-type=\"(?<type>[^\"]+)\"")]
    private static partial Regex ListedEvent();
}

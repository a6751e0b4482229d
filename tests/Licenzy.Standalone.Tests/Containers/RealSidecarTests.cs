using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Licenzy.Testing;

namespace Licenzy.Standalone.Tests.Containers;

/// <summary>
/// Api and Ingest, each with a real daprd, on Redis (state, the events store's outbox, pub/sub)
/// and Dapr placement (the Api's SubjectActor), started once for the class; each test makes its
/// own tenant and talks to the apps over HTTP only, as a backend and Stripe would.
/// </summary>
public sealed class RealSidecars : IAsyncLifetime
{
    private SidecarContainers? _containers;

    public StripeStandIn Stripe { get; private set; } = null!;

    internal SidecarApp Api { get; private set; } = null!;

    internal SidecarApp Ingest { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // xunit 2 builds a class fixture even when every test of the class is skipped.
        if (ContainerSuite.WhyNotDapr() is not null) return;
        Stripe = await StripeStandIn.StartAsync();
        try
        {
            _containers = await SidecarContainers.StartRedisAsync();
            await _containers.StartPlacementAsync();
            var settings = new Dictionary<string, string?> { ["Licenzy:Stripe:ApiBase"] = Stripe.BaseUrl.AbsoluteUri };
            // The app ids the components are scoped to (components/local, dapr.yaml).
            Api = await _containers.StartAppAsync("Licenzy.Api", "licenzy-api", settings);
            Ingest = await _containers.StartAppAsync("Licenzy.Ingest", "licenzy-ingest", settings);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_containers is not null) await _containers.DisposeAsync();
        _containers = null;
        if (Stripe is not null) await Stripe.DisposeAsync();
    }

    /// <summary>Asks until <paramref name="condition"/> holds, within a bound; fails with both apps' and sidecars' output.</summary>
    internal async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var within = TimeSpan.FromSeconds(60);
        using var deadline = new CancellationTokenSource(within);
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        do
        {
            if (await condition()) return;
        }
        while (!deadline.IsCancellationRequested && await poll.WaitForNextTickAsync(CancellationToken.None));
        Assert.Fail($"not within {within.TotalSeconds:0} s: {what}\n{await _containers!.DescribeAsync()}");
    }
}

public sealed class RealSidecarTests(RealSidecars sidecars) : IClassFixture<RealSidecars>
{
    [DaprContainersFact]
    public async Task A_purchase_webhook_to_ingest_reaches_an_access_check_on_the_api()
    {
        var tenant = await SidecarTenant.CreateAsync(sidecars);
        Assert.False(await tenant.IsAllowedAsync("user_1"));

        await tenant.BuyPackAsync("user_1");

        await sidecars.EventuallyAsync(() => tenant.IsAllowedAsync("user_1"), "access for user_1 after the purchase webhook");
    }

    [DaprContainersFact]
    public async Task A_consume_replayed_with_its_idempotency_key_answers_the_same_and_spends_once()
    {
        var tenant = await SidecarTenant.CreateAsync(sidecars);
        await tenant.BuyPackAsync("user_1");
        await sidecars.EventuallyAsync(() => tenant.IsAllowedAsync("user_1"), "access for user_1 after the purchase webhook");

        var (first, firstReplayed) = await tenant.ConsumeAsync("user_1", 2, "job-1");
        var (replay, replayed) = await tenant.ConsumeAsync("user_1", 2, "job-1");
        var (next, _) = await tenant.ConsumeAsync("user_1", 1, "job-2");

        Assert.False(firstReplayed);
        Assert.Equal(SidecarTenant.PackUnits - 2, first.GetProperty("usage_remaining").GetInt64());
        Assert.True(replayed, "the replay did not say Idempotent-Replayed: true");
        Assert.Equal(first.ToString(), replay.ToString());
        Assert.Equal(SidecarTenant.PackUnits - 3, next.GetProperty("usage_remaining").GetInt64());
        var entitlement = (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0];
        Assert.Equal(SidecarTenant.PackUnits, entitlement.GetProperty("usage_granted").GetInt64());
        Assert.Equal(SidecarTenant.PackUnits - 3, entitlement.GetProperty("usage_remaining").GetInt64());
    }
}

/// <summary>A tenant made for one test through the setup API on the Api, with one usage pack product.</summary>
internal sealed class SidecarTenant
{
    public const string Pack = "PACK_5";
    public const long PackUnits = 5;

    private readonly RealSidecars _sidecars;
    private readonly HttpClient _runtime;
    private int _events;

    private SidecarTenant(RealSidecars sidecars, string tenantId, string webhookSecret, string key)
    {
        _sidecars = sidecars;
        TenantId = tenantId;
        WebhookSecret = webhookSecret;
        _runtime = sidecars.Api.Client(key);
    }

    public string TenantId { get; }

    public string WebhookSecret { get; }

    public static async Task<SidecarTenant> CreateAsync(RealSidecars sidecars)
    {
        using var admin = sidecars.Api.Client(SidecarContainers.AdminToken);
        var tenantId = (await Json(await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "Real sidecars" }), HttpStatusCode.Created))
            .GetProperty("tenant_id").GetString()!;
        var mode = $"/v1/admin/tenants/{tenantId}/modes/test";
        var secretKey = "sk_test_" + RandomNumberGenerator.GetHexString(24, lowercase: true);
        var webhookSecret = "whsec_" + RandomNumberGenerator.GetHexString(32, lowercase: true);
        var priceId = "price_" + RandomNumberGenerator.GetHexString(14, lowercase: true);
        sidecars.Stripe.AddKey(secretKey, livemode: false);
        sidecars.Stripe.AddPrice(priceId, type: "one_time");
        await Json(await admin.PutAsJsonAsync($"{mode}/stripe", new { secret_key = secretKey, webhook_secret = webhookSecret }), HttpStatusCode.OK);
        await Json(await admin.PostAsJsonAsync($"{mode}/products",
            new { code = Pack, kind = "usage_pack", stripe_price_id = priceId, usage_units = PackUnits }), HttpStatusCode.Created);
        var key = (await Json(await admin.PostAsJsonAsync($"{mode}/api-keys", new { name = "containers" }), HttpStatusCode.Created))
            .GetProperty("key").GetString()!;
        return new SidecarTenant(sidecars, tenantId, webhookSecret, key);
    }

    /// <summary>Starts a checkout on the Api, then sends Ingest Stripe's signed report that it was paid.</summary>
    public async Task BuyPackAsync(string subjectRef)
    {
        var url = (await Json(await _runtime.PostAsJsonAsync("/v1/checkout/session", new { subject_ref = subjectRef, product_code = Pack }), HttpStatusCode.OK))
            .GetProperty("checkout_url").GetString();
        var session = _sidecars.Stripe.CheckoutSessions.Single(s => s.Url == url);
        var eventId = $"evt_{TenantId}_{Interlocked.Increment(ref _events)}";
        var body = StripeEvents.CheckoutSession("checkout.session.completed", eventId, DateTimeOffset.UtcNow, session, "paid");
        using var webhook = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/stripe/{TenantId}/test")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        webhook.Headers.TryAddWithoutValidation("Stripe-Signature", Signature(body));
        using var ingest = _sidecars.Ingest.Client();
        await Json(await ingest.SendAsync(webhook), HttpStatusCode.OK);
    }

    public async Task<bool> IsAllowedAsync(string subjectRef) =>
        (await Json(await _runtime.PostAsJsonAsync("/v1/access/check", new { subject_ref = subjectRef }), HttpStatusCode.OK))
        .GetProperty("allowed").GetBoolean();

    /// <summary>Spends <paramref name="units"/>; returns the answer and whether it came back as a replay.</summary>
    public async Task<(JsonElement Body, bool Replayed)> ConsumeAsync(string subjectRef, long units, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/usage/consume")
        {
            Content = JsonContent.Create(new { subject_ref = subjectRef, units }),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await _runtime.SendAsync(request);
        var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Contains("true");
        return (await Json(response, HttpStatusCode.OK), replayed);
    }

    public async Task<JsonElement> EntitlementsAsync(string subjectRef) =>
        await Json(await _runtime.GetAsync($"/v1/entitlements/{subjectRef}"), HttpStatusCode.OK);

    /// <summary>Stripe's scheme: HMAC-SHA256 of "timestamp.body" with the endpoint's secret.</summary>
    private string Signature(string body)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(WebhookSecret), Encoding.UTF8.GetBytes($"{timestamp}.{body}"));
        return $"t={timestamp},v1={Convert.ToHexStringLower(mac)}";
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}

using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Licenzy.Bench.Load;

namespace Licenzy.Bench;

/// <summary>The products the bench defines; their codes, kinds and the units a pack grants.</summary>
public static class BenchProducts
{
    public const string Subscription = "BENCH_SUB";
    public const string Pack = "BENCH_PACK";
    public const string HotPack = "BENCH_HOT";
    public const long PackUnits = 1_000;
    public const long HotPackUnits = 10_000_000;
}

/// <summary>
/// A tenant set up through the public setup API, and the bytes of the runtime requests and signed
/// webhooks the scenarios send for it.
/// </summary>
public sealed class BenchTenant
{
    private readonly byte[] _secret;

    private BenchTenant(string tenantId, string? apiKey, string webhookSecret)
    {
        TenantId = tenantId;
        ApiKey = apiKey;
        WebhookSecret = webhookSecret;
        _secret = Encoding.UTF8.GetBytes(webhookSecret);
    }

    public string TenantId { get; }
    /// <summary>The runtime key; null for the outbound scenario's tenants, which only receive webhooks.</summary>
    public string? ApiKey { get; }
    public string WebhookSecret { get; }

    /// <summary>Tenant, Stripe connection (test mode), the three products and a runtime key.</summary>
    public static async Task<BenchTenant> CreateAsync(Uri licenzy, string adminToken)
    {
        using var http = new HttpClient { BaseAddress = licenzy };
        http.DefaultRequestHeaders.Authorization = new("Bearer", adminToken);

        var (tenantId, modePath, webhookSecret) = await ConnectAsync(http, "bench");
        await SendAsync(http, HttpMethod.Post, $"{modePath}/products", new
        {
            code = BenchProducts.Subscription, kind = "subscription", stripe_price_id = "price_recurring_bench", features = new[] { "export" },
        });
        await SendAsync(http, HttpMethod.Post, $"{modePath}/products", new
        {
            code = BenchProducts.Pack, kind = "usage_pack", stripe_price_id = "price_pack_bench", usage_units = BenchProducts.PackUnits,
            name = "Bench pack", issue_license = true,
        });
        await SendAsync(http, HttpMethod.Post, $"{modePath}/products", new
        {
            code = BenchProducts.HotPack, kind = "usage_pack", stripe_price_id = "price_hot_bench", usage_units = BenchProducts.HotPackUnits,
        });
        var key = await SendAsync(http, HttpMethod.Post, $"{modePath}/api-keys", new { name = "bench" });
        return new BenchTenant(tenantId, key["key"]!.GetValue<string>(), webhookSecret);
    }

    /// <summary>
    /// A tenant that only buys the subscription and has one outbound webhook endpoint at
    /// <paramref name="endpointUrl"/> (all event types, the default), for the outbound scenario.
    /// <paramref name="http"/> carries the admin token.
    /// </summary>
    public static async Task<BenchTenant> CreateListeningAsync(HttpClient http, string name, Uri endpointUrl)
    {
        var (tenantId, modePath, webhookSecret) = await ConnectAsync(http, name);
        await SendAsync(http, HttpMethod.Post, $"{modePath}/products", new
        {
            code = BenchProducts.Subscription, kind = "subscription", stripe_price_id = "price_recurring_bench", features = new[] { "export" },
        });
        await SendAsync(http, HttpMethod.Post, $"{modePath}/webhook-endpoints", new { url = endpointUrl.ToString() });
        return new BenchTenant(tenantId, null, webhookSecret);
    }

    /// <summary>A new tenant with Stripe connected in test mode (to the baseline's Stripe stand-in) and a webhook secret of its own.</summary>
    private static async Task<(string TenantId, string ModePath, string WebhookSecret)> ConnectAsync(HttpClient http, string name)
    {
        var tenant = await SendAsync(http, HttpMethod.Post, "v1/admin/tenants", new { name });
        var tenantId = tenant["tenant_id"]!.GetValue<string>();
        var modePath = $"v1/admin/tenants/{tenantId}/modes/test";
        var webhookSecret = "whsec_bench_" + RandomNumberGenerator.GetHexString(24, lowercase: true);
        await SendAsync(http, HttpMethod.Put, $"{modePath}/stripe", new { secret_key = "sk_test_bench", webhook_secret = webhookSecret });
        return (tenantId, modePath, webhookSecret);
    }

    private static async Task<JsonNode> SendAsync(HttpClient http, HttpMethod method, string path, object body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    public byte[] AccessCheck(string subject) =>
        WireRequest.PostJson("/v1/access/check", $"{{\"subject_ref\":\"{subject}\"}}", ApiKey);

    public byte[] Licenses(string subject) => WireRequest.Get($"/v1/licenses?subject_ref={subject}", ApiKey);

    public byte[] ValidateLicense(string key) => WireRequest.PostJson("/v1/licenses/validate", $"{{\"key\":\"{key}\"}}", ApiKey);

    public byte[] AccessToken(string subject) =>
        WireRequest.PostJson("/v1/access/token", $"{{\"subject_ref\":\"{subject}\"}}", ApiKey);

    public byte[] CustomerAccess(string subject) => WireRequest.Get($"/v1/customer/access/{subject}", ApiKey);

    public byte[] Entitlements(string subject) => WireRequest.Get($"/v1/entitlements/{subject}", ApiKey);

    public byte[] Consume(string subject, long units, string idempotencyKey) =>
        WireRequest.PostJson("/v1/usage/consume", $"{{\"subject_ref\":\"{subject}\",\"units\":{units}}}", ApiKey,
            ("Idempotency-Key", idempotencyKey));

    /// <summary>A signed <c>checkout.session.completed</c> (paid) for <paramref name="product"/>, as Stripe would send it.</summary>
    public byte[] Purchase(string eventId, string subject, string product, DateTimeOffset? created = null) =>
        Webhook(PurchaseBody(eventId, subject, product, created ?? DateTimeOffset.UtcNow));

    public string PurchaseBody(string eventId, string subject, string product, DateTimeOffset created)
    {
        var subscription = product == BenchProducts.Subscription;
        var session = new JsonObject
        {
            ["id"] = "cs_" + eventId,
            ["object"] = "checkout.session",
            ["mode"] = subscription ? "subscription" : "payment",
            ["payment_status"] = "paid",
            ["status"] = "complete",
            ["subscription"] = subscription ? "sub_" + eventId : null,
            ["payment_intent"] = subscription ? null : "pi_" + eventId,
            ["metadata"] = new JsonObject
            {
                ["licenzy_tenant"] = TenantId, ["licenzy_mode"] = "test", ["licenzy_subject"] = subject, ["licenzy_product"] = product,
            },
        };
        return Envelope(eventId, "checkout.session.completed", created, session);
    }

    /// <summary>A signed <c>customer.subscription.deleted</c> for the subscription bought by <paramref name="purchaseEventId"/>.</summary>
    public string CancelBody(string eventId, string purchaseEventId, string subject, DateTimeOffset created)
    {
        var subscription = new JsonObject
        {
            ["id"] = "sub_" + purchaseEventId,
            ["object"] = "subscription",
            ["status"] = "canceled",
            ["canceled_at"] = created.ToUnixTimeSeconds(),
            ["ended_at"] = created.ToUnixTimeSeconds(),
            ["metadata"] = new JsonObject
            {
                ["licenzy_tenant"] = TenantId, ["licenzy_mode"] = "test", ["licenzy_subject"] = subject,
                ["licenzy_product"] = BenchProducts.Subscription,
            },
        };
        return Envelope(eventId, "customer.subscription.deleted", created, subscription);
    }

    private static string Envelope(string eventId, string type, DateTimeOffset created, JsonObject dataObject) =>
        new JsonObject
        {
            ["id"] = eventId,
            ["object"] = "event",
            ["type"] = type,
            ["created"] = created.ToUnixTimeSeconds(),
            ["livemode"] = false,
            ["data"] = new JsonObject { ["object"] = dataObject },
        }.ToJsonString();

    /// <summary>The request Stripe would make: the body signed now with the endpoint's secret.</summary>
    public byte[] Webhook(string body)
    {
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = Convert.ToHexStringLower(HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes($"{t}.{body}")));
        return WireRequest.PostJson($"/v1/webhooks/stripe/{TenantId}/test", body, null, ("Stripe-Signature", $"t={t},v1={mac}"));
    }

    /// <summary>usage_remaining of the first usage pack in a <c>GET /v1/entitlements</c> body.</summary>
    public static long? UsageRemaining(string entitlementsBody)
    {
        using var document = JsonDocument.Parse(entitlementsBody);
        long? total = null;
        foreach (var entitlement in document.RootElement.GetProperty("entitlements").EnumerateArray())
        {
            if (entitlement.GetProperty("kind").GetString() != "usage_pack") continue;
            total = (total ?? 0) + entitlement.GetProperty("usage_remaining").GetInt64();
        }
        return total;
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace Licenzy.Sandbox.Tests;

/// <summary>The sandbox with its events set to an API version from before 2025-03-31.basil.</summary>
public sealed class SandboxedLicenzyOnAnOlderApiVersion : SandboxedLicenzy
{
    public const string ApiVersion = "2024-06-20";

    public SandboxedLicenzyOnAnOlderApiVersion() => Settings["Licenzy:Sandbox:ApiVersion"] = ApiVersion;
}

/// <summary>
/// A Stripe endpoint pinned to an older API version gets its events in that version's shapes; so
/// does the sandbox's, set to one. Licenzy reads them from where that version keeps each field.
/// </summary>
public sealed class OlderApiVersionTests(SandboxedLicenzyOnAnOlderApiVersion app) : IClassFixture<SandboxedLicenzyOnAnOlderApiVersion>
{
    [Fact]
    public async Task A_subscriptions_life_in_the_older_shapes_applies()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var start = app.Clock.GetUtcNow();

        var (_, bought) = await tenant.BuyAsync("user_1", SandboxTenant.Subscription);

        var created = Object(tenant, bought[1], out var apiVersion);
        Assert.Equal(SandboxedLicenzyOnAnOlderApiVersion.ApiVersion, apiVersion);
        Assert.Equal(start.AddDays(30).ToUnixTimeSeconds(), created["current_period_end"]!.GetValue<long>());
        Assert.Null(created["items"]!["data"]![0]!["current_period_end"]);
        var invoice = Object(tenant, bought[2], out _);
        Assert.Equal(created["id"]!.GetValue<string>(), invoice["subscription"]!.GetValue<string>());
        Assert.Equal("user_1", invoice["subscription_details"]!["metadata"]!["licenzy_subject"]!.GetValue<string>());
        Assert.StartsWith("pi_", invoice["payment_intent"]!.GetValue<string>());
        Assert.StartsWith("ch_", invoice["charge"]!.GetValue<string>());
        Assert.Null(invoice["parent"]);
        Assert.Null(invoice["payments"]);
        Assert.Equal(created["items"]!["data"]![0]!["id"]!.GetValue<string>(), invoice["lines"]!["data"]![0]!["subscription_item"]!.GetValue<string>());
        Assert.True(await tenant.IsAllowedAsync("user_1"));
        Assert.Equal(start.AddDays(30), ExpiresAt(await SingleEntitlementAsync(tenant)));

        await tenant.TriggerAppliedAsync("user_1", "renewal");
        Assert.Equal(start.AddDays(60), ExpiresAt(await SingleEntitlementAsync(tenant)));

        await tenant.TriggerAppliedAsync("user_1", "payment_failure");
        Assert.False(await tenant.IsAllowedAsync("user_1"));
        await tenant.TriggerAppliedAsync("user_1", "recovery");
        Assert.True(await tenant.IsAllowedAsync("user_1"));

        var refunded = await tenant.TriggerAppliedAsync("user_1", "refund");
        Assert.StartsWith("in_", Object(tenant, refunded[0], out _)["invoice"]!.GetValue<string>());
        Assert.Equal("revoked", (await SingleEntitlementAsync(tenant)).GetProperty("status").GetString());
        Assert.Equal(0, (await tenant.DeadLettersAsync()).GetArrayLength());
    }

    private static JsonObject Object(SandboxTenant tenant, Delivered delivered, out string? apiVersion)
    {
        var body = JsonNode.Parse(tenant.Webhook(delivered).Body)!;
        apiVersion = body["api_version"]?.GetValue<string>();
        return body["data"]!["object"]!.AsObject();
    }

    private static async Task<JsonElement> SingleEntitlementAsync(SandboxTenant tenant) =>
        Assert.Single((await tenant.EntitlementsAsync("user_1")).EnumerateArray());

    private static DateTimeOffset ExpiresAt(JsonElement entitlement) => entitlement.GetProperty("expires_at").GetDateTimeOffset();
}

using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

public abstract class IsolationTests(ILicenzyHost app)
{
    [Fact]
    public async Task A_test_key_never_sees_live_state()
    {
        var live = await TestTenant.CreateAsync(app, mode: "live");
        await live.BuyAsync("user_1", TestTenant.Subscription);
        var testKey = await new TenantKeys(app, live.TenantId).IssueAsync("test");

        Assert.True(await live.IsAllowedAsync("user_1"));
        var fromTest = await app.RuntimeClient(testKey).GetFromJsonAsync<JsonElement>("/v1/entitlements/user_1");
        Assert.Empty(fromTest.GetProperty("entitlements").EnumerateArray());
        Assert.Equal(0, fromTest.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task A_tenant_never_sees_another_tenants_subjects()
    {
        var owner = await TestTenant.CreateAsync(app);
        var other = await TestTenant.CreateAsync(app);
        await owner.BuyAsync("shared_name", TestTenant.Credits);

        Assert.True(await owner.IsAllowedAsync("shared_name"));
        Assert.False(await other.IsAllowedAsync("shared_name"));
        var consume = new HttpRequestMessage(HttpMethod.Post, "/v1/usage/consume") { Content = JsonContent.Create(new { subject_ref = "shared_name", units = 1 }) };
        consume.Headers.Add("Idempotency-Key", "k1");
        var response = await other.Runtime.SendAsync(consume);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, response.StatusCode);
        var remaining = (await owner.EntitlementsAsync("shared_name")).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64();
        Assert.Equal(50, remaining);
    }

    [Fact]
    public async Task A_webhook_for_one_tenant_cannot_grant_in_another()
    {
        var owner = await TestTenant.CreateAsync(app);
        var other = await TestTenant.CreateAsync(app);
        var session = await owner.StartCheckoutAsync("user_1", TestTenant.Subscription);
        var body = StripeEvents.CheckoutSession("checkout.session.completed", other.NextEventId(), app.Clock.GetUtcNow(), session, "paid");

        // Signed with the other tenant's secret and sent to its endpoint, but carrying the owner's metadata.
        var response = await other.SendWebhookAsync(body);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var eventId = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        var result = await app.Deliveries.WaitAsync(Licenzy.Infrastructure.Topics.BillingEvents, eventId);
        Assert.Equal(Licenzy.Infrastructure.PubSub.DeliveryStatus.Drop, result.Status);
        Assert.False(await owner.IsAllowedAsync("user_1"));
        Assert.False(await other.IsAllowedAsync("user_1"));
    }

    /// <summary>Issues a key for another mode of an existing tenant.</summary>
    private sealed class TenantKeys(ILicenzyHost app, string tenantId)
    {
        public async Task<string> IssueAsync(string mode)
        {
            var response = await app.AdminClient().PostAsJsonAsync($"/v1/admin/tenants/{tenantId}/modes/{mode}/api-keys", new { });
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        }
    }
}

public sealed class IsolationTestsOnEmbedded(LicenzyApp app) : IsolationTests(app), IClassFixture<LicenzyApp>;

public sealed class IsolationTestsOnDapr(DaprLicenzyApp app) : IsolationTests(app), IClassFixture<DaprLicenzyApp>;

/// <summary>The same behaviour with two Api and two Ingest replicas behind the sidecar.</summary>
public sealed class IsolationTestsOnDaprReplicas(DaprCluster cluster) : IsolationTests(cluster), IClassFixture<DaprCluster>;

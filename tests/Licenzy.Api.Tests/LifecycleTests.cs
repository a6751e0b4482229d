using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.PubSub;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

/// <summary>
/// The lifecycle rows end to end: Stripe-shaped events, signed, through the ingest route, the
/// topic and the subject's actor, read back through the runtime API. The clock only moves
/// forward; each test reads times relative to it.
/// </summary>
public abstract class LifecycleTests(ILicenzyHost app)
{
    /// <summary>Few attempts, so an event that never becomes attributable is dead-lettered quickly.</summary>
    public const int FewAttempts = 3;

    public static void SetFewAttempts(LicenzyApp app) => app.Settings["Licenzy:Outbox:MaxAttempts"] = FewAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private readonly ILicenzyHost _app = app;

    private DateTimeOffset Now => _app.Clock.GetUtcNow();

    private sealed record Subscribed(TestTenant Tenant, StandInCheckoutSession Session, string SubscriptionId)
    {
        public IReadOnlyDictionary<string, string> Metadata => Session.Metadata;
    }

    private async Task<Subscribed> SubscribeAsync(string product = TestTenant.Subscription, bool currentShape = true)
    {
        var tenant = await TestTenant.CreateAsync(_app);
        return await SubscribeAsync(tenant, product, currentShape);
    }

    private async Task<Subscribed> SubscribeAsync(TestTenant tenant, string product, bool currentShape = true)
    {
        var session = await tenant.BuyAsync("user_1", product);
        var subscribed = new Subscribed(tenant, session, "sub_" + session.Id);
        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.created", tenant.NextEventId(), Now,
            subscribed.SubscriptionId, "active", session.Metadata, Now, Now.AddDays(30), currentShape));
        await tenant.DeliverAsync(StripeEvents.Invoice("invoice.paid", tenant.NextEventId(), Now, subscribed.SubscriptionId,
            session.Metadata, Now.AddDays(30), "pi_first_" + session.Id, currentShape));
        return subscribed;
    }

    private static async Task<JsonElement> OnlyEntitlementAsync(TestTenant tenant) =>
        (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements").EnumerateArray().Single();

    private static void AssertState(JsonElement entitlement, string status, bool available, string reason)
    {
        Assert.Equal(status, entitlement.GetProperty("status").GetString());
        Assert.Equal(available, entitlement.GetProperty("available").GetBoolean());
        Assert.Equal(reason, entitlement.GetProperty("availability_reason").GetString());
    }

    [Fact]
    public async Task A_member_Stripe_net_cannot_read_costs_only_itself()
    {
        // An endpoint pinned to another API version may send a field in a shape Stripe.net's types
        // do not take (here a bare price id where they expect a price object); the period next to it
        // still counts.
        var tenant = await TestTenant.CreateAsync(_app);
        var session = await tenant.BuyAsync("user_1", TestTenant.Subscription);
        var body = System.Text.Json.Nodes.JsonNode.Parse(StripeEvents.Subscription("customer.subscription.updated", tenant.NextEventId(), Now,
            "sub_" + session.Id, "active", session.Metadata, Now, Now.AddDays(45)))!;
        body["data"]!["object"]!["items"]!["data"]![0]!["price"] = "price_as_a_bare_id";

        await tenant.DeliverAsync(body.ToJsonString());

        Assert.Equal(Now.AddDays(45), DateTimeOffset.Parse((await OnlyEntitlementAsync(tenant)).GetProperty("expires_at").GetString()!));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Expiry_follows_the_period_end_in_both_api_shapes(bool currentShape)
    {
        var start = Now;
        var subscribed = await SubscribeAsync(currentShape: currentShape);

        var entitlement = await OnlyEntitlementAsync(subscribed.Tenant);

        AssertState(entitlement, "active", true, "subscription_active");
        Assert.Equal(start.AddDays(30), DateTimeOffset.Parse(entitlement.GetProperty("expires_at").GetString()!));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_failed_payment_suspends_and_a_paid_invoice_restores(bool currentShape)
    {
        var s = await SubscribeAsync(currentShape: currentShape);
        var tenant = s.Tenant;
        _app.Clock.Advance(TimeSpan.FromDays(30));

        await tenant.DeliverAsync(StripeEvents.Invoice("invoice.payment_failed", tenant.NextEventId(), Now, s.SubscriptionId, s.Metadata, Now.AddDays(30), "pi_renewal_" + s.Session.Id, currentShape));
        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.updated", tenant.NextEventId(), Now, s.SubscriptionId, "past_due", s.Metadata, Now, Now.AddDays(30), currentShape));

        AssertState(await OnlyEntitlementAsync(tenant), "suspended", false, "payment_failed");
        Assert.False(await tenant.IsAllowedAsync("user_1"));

        _app.Clock.Advance(TimeSpan.FromDays(2));
        await tenant.DeliverAsync(StripeEvents.Invoice("invoice.paid", tenant.NextEventId(), Now, s.SubscriptionId, s.Metadata, Now.AddDays(28), "pi_retry_" + s.Session.Id, currentShape));

        var restored = await OnlyEntitlementAsync(tenant);
        AssertState(restored, "active", true, "subscription_active");
        Assert.Equal(Now.AddDays(28), DateTimeOffset.Parse(restored.GetProperty("expires_at").GetString()!));
    }

    [Fact]
    public async Task A_product_with_payment_failure_grace_keeps_access_until_the_grace_ends()
    {
        var tenant = await TestTenant.CreateAsync(_app);
        await tenant.DefineProductAsync(new { code = "PRO_GRACE", kind = "subscription", payment_failure_grace_days = 3 }, "recurring");
        var s = await SubscribeAsync(tenant, "PRO_GRACE");
        _app.Clock.Advance(TimeSpan.FromDays(30));
        var failedAt = Now;

        await tenant.DeliverAsync(StripeEvents.Invoice("invoice.payment_failed", tenant.NextEventId(), failedAt, s.SubscriptionId, s.Metadata, Now.AddDays(30), "pi_f", true));

        var inGrace = await OnlyEntitlementAsync(tenant);
        AssertState(inGrace, "suspended", true, "in_grace_period");
        Assert.Equal(failedAt.AddDays(3), DateTimeOffset.Parse(inGrace.GetProperty("grace_ends_at").GetString()!));
        _app.Clock.SetUtcNow(failedAt.AddDays(3).AddTicks(-1));
        Assert.True(await tenant.IsAllowedAsync("user_1"));
        _app.Clock.SetUtcNow(failedAt.AddDays(3));
        Assert.False(await tenant.IsAllowedAsync("user_1"));
        AssertState(await OnlyEntitlementAsync(tenant), "suspended", false, "payment_failed");
    }

    [Fact]
    public async Task A_deleted_subscription_is_in_grace_then_expired()
    {
        var s = await SubscribeAsync();
        var tenant = s.Tenant;
        var canceledAt = Now.AddDays(5);
        _app.Clock.SetUtcNow(canceledAt);

        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.deleted", tenant.NextEventId(), canceledAt, s.SubscriptionId, "canceled",
            s.Metadata, canceledAt.AddDays(-5), canceledAt.AddDays(25), canceledAt: canceledAt));

        var inGrace = await OnlyEntitlementAsync(tenant);
        AssertState(inGrace, "canceled", true, "in_grace_period");
        Assert.Equal(canceledAt.AddDays(7), DateTimeOffset.Parse(inGrace.GetProperty("grace_ends_at").GetString()!));
        _app.Clock.SetUtcNow(canceledAt.AddDays(7).AddTicks(-1));
        Assert.True(await tenant.IsAllowedAsync("user_1"));
        _app.Clock.SetUtcNow(canceledAt.AddDays(7));
        Assert.False(await tenant.IsAllowedAsync("user_1"));
        var customer = await (await tenant.Runtime.GetAsync("/v1/customer/access/user_1")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("expired", customer.GetProperty("status").GetString());
        Assert.Equal("subscription_canceled", customer.GetProperty("entitlements")[0].GetProperty("availability_reason").GetString());
    }

    [Fact]
    public async Task A_full_refund_of_a_pack_revokes_it_and_a_partial_one_does_not()
    {
        var tenant = await TestTenant.CreateAsync(_app);
        var session = await tenant.BuyAsync("user_1", TestTenant.Credits);
        var paymentIntent = "pi_" + session.Id;

        await tenant.DeliverAsync(StripeEvents.ChargeRefunded(tenant.NextEventId(), Now, paymentIntent, amountRefunded: 500));
        AssertState(await OnlyEntitlementAsync(tenant), "active", true, "usage_available");
        Assert.Equal(1, (await tenant.EntitlementsAsync("user_1")).GetProperty("version").GetInt64());

        await tenant.DeliverAsync(StripeEvents.ChargeRefunded(tenant.NextEventId(), Now, paymentIntent, amountRefunded: 1900));
        AssertState(await OnlyEntitlementAsync(tenant), "revoked", false, "refunded");
    }

    [Fact]
    public async Task A_refund_of_a_subscription_payment_revokes_the_subscription()
    {
        var s = await SubscribeAsync();

        await s.Tenant.DeliverAsync(StripeEvents.ChargeRefunded(s.Tenant.NextEventId(), Now, "pi_first_" + s.Session.Id, amountRefunded: 1900));

        AssertState(await OnlyEntitlementAsync(s.Tenant), "revoked", false, "refunded");
    }

    [Fact]
    public async Task A_dispute_suspends_and_winning_it_restores()
    {
        var tenant = await TestTenant.CreateAsync(_app);
        var session = await tenant.BuyAsync("user_1", TestTenant.DayPass);
        var paymentIntent = "pi_" + session.Id;

        await tenant.DeliverAsync(StripeEvents.Dispute("charge.dispute.created", tenant.NextEventId(), Now, "dp_1", paymentIntent, "needs_response"));
        AssertState(await OnlyEntitlementAsync(tenant), "suspended", false, "disputed");

        await tenant.DeliverAsync(StripeEvents.Dispute("charge.dispute.closed", tenant.NextEventId(), Now, "dp_1", paymentIntent, "won"));
        AssertState(await OnlyEntitlementAsync(tenant), "active", true, "pass_active");
    }

    [Fact]
    public async Task A_lost_dispute_revokes()
    {
        var s = await SubscribeAsync();
        var paymentIntent = "pi_first_" + s.Session.Id;

        await s.Tenant.DeliverAsync(StripeEvents.Dispute("charge.dispute.created", s.Tenant.NextEventId(), Now, "dp_2", paymentIntent, "needs_response"));
        await s.Tenant.DeliverAsync(StripeEvents.Dispute("charge.dispute.closed", s.Tenant.NextEventId(), Now, "dp_2", paymentIntent, "lost"));

        AssertState(await OnlyEntitlementAsync(s.Tenant), "revoked", false, "disputed");
    }

    [Fact]
    public async Task A_refund_that_arrives_before_its_purchase_waits_for_it()
    {
        var tenant = await TestTenant.CreateAsync(_app);
        var session = await tenant.StartCheckoutAsync("user_1", TestTenant.Credits);
        var refundId = tenant.NextEventId();
        var refund = StripeEvents.ChargeRefunded(refundId, Now.AddSeconds(5), "pi_" + session.Id, amountRefunded: 1900);

        Assert.Equal(HttpStatusCode.OK, (await tenant.SendWebhookAsync(refund)).StatusCode);
        await _app.Deliveries.WaitForRetriesAsync(Topics.BillingEvents, refundId);
        await tenant.DeliverAsync(StripeEvents.CheckoutSession("checkout.session.completed", tenant.NextEventId(), Now, session, "paid"));
        Assert.True(await tenant.IsAllowedAsync("user_1"));
        _app.Clock.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(DeliveryStatus.Success, (await _app.Deliveries.WaitAsync(Topics.BillingEvents, refundId)).Status);
        AssertState(await OnlyEntitlementAsync(tenant), "revoked", false, "refunded");
    }

    [Fact]
    public async Task A_refund_of_a_payment_licenzy_never_saw_ends_as_a_dead_letter()
    {
        var tenant = await TestTenant.CreateAsync(_app);
        var refundId = tenant.NextEventId();

        Assert.Equal(HttpStatusCode.OK, (await tenant.SendWebhookAsync(StripeEvents.ChargeRefunded(refundId, Now, "pi_unknown", 1900))).StatusCode);
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await _app.Deliveries.WaitForRetriesAsync(Topics.BillingEvents, refundId, attempt);
            // The next attempt waits for its backoff (1 s, 2 s, ...); the clock moves it along.
            _app.Clock.Advance(TimeSpan.FromSeconds(10));
        }
        await _app.Deliveries.WaitAsync(Topics.BillingEventsDeadLetter, refundId);

        var letters = await (await tenant.Admin.GetAsync($"{tenant.ModePath}/dead-letters")).Content.ReadFromJsonAsync<JsonElement>();
        var letter = letters.GetProperty("events").EnumerateArray().Single();
        Assert.Equal(refundId, letter.GetProperty("event_id").GetString());
        Assert.Contains("pi_unknown", letter.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_subscription_licenzy_did_not_start_is_acknowledged_and_ignored()
    {
        var tenant = await TestTenant.CreateAsync(_app);
        var eventId = tenant.NextEventId();

        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.created", eventId, Now, "sub_foreign", "active",
            new Dictionary<string, string> { ["plan"] = "their own" }, Now, Now.AddDays(30)));
        var (final, retries) = await _app.Deliveries.WaitWithRetriesAsync(Topics.BillingEvents, eventId);

        Assert.Equal((DeliveryStatus.Success, 0), (final.Status, retries));
        var letters = await (await tenant.Admin.GetAsync($"{tenant.ModePath}/dead-letters")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Empty(letters.GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task A_subscription_whose_licenzy_metadata_lacks_the_product_is_a_dead_letter_at_once()
    {
        var tenant = await TestTenant.CreateAsync(_app);
        var eventId = tenant.NextEventId();

        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.created", eventId, Now, "sub_half", "active",
            new Dictionary<string, string> { ["licenzy_subject"] = "user_1" }, Now, Now.AddDays(30)));
        var (final, retries) = await _app.Deliveries.WaitWithRetriesAsync(Topics.BillingEvents, eventId);
        await _app.Deliveries.WaitAsync(Topics.BillingEventsDeadLetter, eventId);

        Assert.Equal((DeliveryStatus.Drop, 0), (final.Status, retries));
        var letters = await (await tenant.Admin.GetAsync($"{tenant.ModePath}/dead-letters")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("licenzy_product", letters.GetProperty("events")[0].GetProperty("reason").GetString());
    }
}

public sealed class LifecycleTestsOnEmbedded(LifecycleTestsOnEmbedded.App app) : LifecycleTests(app), IClassFixture<LifecycleTestsOnEmbedded.App>
{
    public sealed class App : LicenzyApp
    {
        public App() => SetFewAttempts(this);
    }
}

public sealed class LifecycleTestsOnDapr(LifecycleTestsOnDapr.App app) : LifecycleTests(app), IClassFixture<LifecycleTestsOnDapr.App>
{
    public sealed class App : LicenzyAppOnDapr
    {
        public App() => SetFewAttempts(this);
    }
}

public sealed class LifecycleTestsOnDaprReplicas(LifecycleTestsOnDaprReplicas.App app) : LifecycleTests(app), IClassFixture<LifecycleTestsOnDaprReplicas.App>
{
    public sealed class App : DaprCluster
    {
        public App() => MaxAttempts = FewAttempts;
    }
}

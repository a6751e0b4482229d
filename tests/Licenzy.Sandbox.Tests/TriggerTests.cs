using System.Net;
using System.Text.Json;
using Licenzy.Stripe;

namespace Licenzy.Sandbox.Tests;

/// <summary>
/// Each lifecycle trigger sends the events Stripe would, in Stripe's order, and Licenzy's
/// lifecycle does with them what API.md's table says.
/// </summary>
public sealed class TriggerTests(SandboxedLicenzy app) : IClassFixture<SandboxedLicenzy>
{
    [Fact]
    public async Task Payment_failure_suspends_and_recovery_restores()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);

        var failed = await tenant.TriggerAppliedAsync("user_1", "payment_failure");

        Assert.Equal(["invoice.payment_failed", "customer.subscription.updated"], failed.Select(e => e.Type));
        Assert.Equal("past_due", StripeSubscriptionObject.FromJson(tenant.Webhook(failed[1]).Event.DataObject).Status);
        Assert.False(await tenant.IsAllowedAsync("user_1"));
        var suspended = await SingleEntitlementAsync(tenant, "user_1");
        Assert.Equal("suspended", suspended.GetProperty("status").GetString());
        Assert.Equal("payment_failed", suspended.GetProperty("availability_reason").GetString());

        var recovered = await tenant.TriggerAppliedAsync("user_1", "recovery");

        Assert.Equal(["invoice.paid", "customer.subscription.updated"], recovered.Select(e => e.Type));
        var paidInvoice = StripeInvoiceObject.FromJson(tenant.Webhook(recovered[0]).Event.DataObject);
        var failedInvoice = StripeInvoiceObject.FromJson(tenant.Webhook(failed[0]).Event.DataObject);
        Assert.Equal(failedInvoice.Id, paidInvoice.Id);
        Assert.Equal("paid", paidInvoice.Status);
        Assert.Equal("active", StripeSubscriptionObject.FromJson(tenant.Webhook(recovered[1]).Event.DataObject).Status);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
        var active = await SingleEntitlementAsync(tenant, "user_1");
        Assert.Equal("active", active.GetProperty("status").GetString());
        Assert.Equal("subscription_active", active.GetProperty("availability_reason").GetString());
    }

    [Fact]
    public async Task Renewal_moves_expires_at_on_by_a_period()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);
        var before = ExpiresAt(await SingleEntitlementAsync(tenant, "user_1"));

        var renewed = await tenant.TriggerAppliedAsync("user_1", "renewal");

        Assert.Equal(["invoice.paid", "customer.subscription.updated"], renewed.Select(e => e.Type));
        var invoice = StripeInvoiceObject.FromJson(tenant.Webhook(renewed[0]).Event.DataObject);
        Assert.Equal("subscription_cycle", invoice.BillingReason);
        var after = await SingleEntitlementAsync(tenant, "user_1");
        Assert.Equal(before.AddDays(30), ExpiresAt(after));
        Assert.Equal("active", after.GetProperty("status").GetString());
        Assert.True(await tenant.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task Cancellation_keeps_access_through_the_grace_period_then_expires()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);

        var canceled = await tenant.TriggerAppliedAsync("user_1", "cancellation");

        Assert.Equal(["customer.subscription.deleted"], canceled.Select(e => e.Type));
        var inGrace = await SingleEntitlementAsync(tenant, "user_1");
        Assert.Equal("canceled", inGrace.GetProperty("status").GetString());
        Assert.Equal("in_grace_period", inGrace.GetProperty("availability_reason").GetString());
        var graceEndsAt = inGrace.GetProperty("grace_ends_at").GetDateTimeOffset();
        Assert.True(await tenant.IsAllowedAsync("user_1"));

        app.Clock.SetUtcNow(graceEndsAt.AddSeconds(1));

        Assert.False(await tenant.IsAllowedAsync("user_1"));
        var expired = await SingleEntitlementAsync(tenant, "user_1");
        Assert.Equal("expired", expired.GetProperty("status").GetString());
        Assert.Equal("subscription_canceled", expired.GetProperty("availability_reason").GetString());
    }

    [Fact]
    public async Task Refund_revokes_a_subscription()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);

        var refunded = await tenant.TriggerAppliedAsync("user_1", "refund");

        Assert.Equal(["charge.refunded"], refunded.Select(e => e.Type));
        var charge = StripeChargeObject.FromJson(tenant.Webhook(refunded[0]).Event.DataObject);
        Assert.True(charge.Refunded);
        Assert.Equal(charge.Amount, charge.AmountRefunded);
        Assert.False(await tenant.IsAllowedAsync("user_1"));
        var revoked = await SingleEntitlementAsync(tenant, "user_1");
        Assert.Equal("revoked", revoked.GetProperty("status").GetString());
        Assert.Equal("refunded", revoked.GetProperty("availability_reason").GetString());
    }

    [Fact]
    public async Task Refund_revokes_a_time_pass()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("pass_user", SandboxTenant.DayPass);

        await tenant.TriggerAppliedAsync("pass_user", "refund");

        Assert.False(await tenant.IsAllowedAsync("pass_user"));
        Assert.Equal("refunded", (await SingleEntitlementAsync(tenant, "pass_user")).GetProperty("availability_reason").GetString());
    }

    [Fact]
    public async Task Dispute_suspends_and_a_won_dispute_restores()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);

        var opened = await tenant.TriggerAppliedAsync("user_1", "dispute");

        Assert.Equal(["charge.dispute.created"], opened.Select(e => e.Type));
        Assert.False(await tenant.IsAllowedAsync("user_1"));
        var disputed = await SingleEntitlementAsync(tenant, "user_1");
        Assert.Equal("suspended", disputed.GetProperty("status").GetString());
        Assert.Equal("disputed", disputed.GetProperty("availability_reason").GetString());

        var won = await tenant.TriggerAppliedAsync("user_1", "dispute_won");

        Assert.Equal(["charge.dispute.closed"], won.Select(e => e.Type));
        Assert.Equal("won", StripeDisputeObject.FromJson(tenant.Webhook(won[0]).Event.DataObject).Status);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
        Assert.Equal("active", (await SingleEntitlementAsync(tenant, "user_1")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_lost_dispute_revokes()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);
        await tenant.TriggerAppliedAsync("user_1", "dispute");

        var lost = await tenant.TriggerAppliedAsync("user_1", "dispute_lost");

        Assert.Equal("lost", StripeDisputeObject.FromJson(tenant.Webhook(lost[0]).Event.DataObject).Status);
        Assert.False(await tenant.IsAllowedAsync("user_1"));
        var revoked = await SingleEntitlementAsync(tenant, "user_1");
        Assert.Equal("revoked", revoked.GetProperty("status").GetString());
        Assert.Equal("disputed", revoked.GetProperty("availability_reason").GetString());
    }

    [Fact]
    public async Task Product_code_picks_which_purchase_a_trigger_acts_on()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);
        await tenant.BuyAsync("user_1", SandboxTenant.DayPass);

        await tenant.TriggerAppliedAsync("user_1", "refund", SandboxTenant.Subscription);

        var entitlements = (await tenant.EntitlementsAsync("user_1")).EnumerateArray()
            .ToDictionary(e => e.GetProperty("product_code").GetString()!, e => e.GetProperty("status").GetString());
        Assert.Equal("revoked", entitlements[SandboxTenant.Subscription]);
        Assert.Equal("active", entitlements[SandboxTenant.DayPass]);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task Every_trigger_event_reaches_the_lifecycle_and_none_is_a_dead_letter()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);

        foreach (var trigger in new[] { "renewal", "payment_failure", "recovery", "dispute", "dispute_won", "refund" })
        {
            await tenant.TriggerAppliedAsync("user_1", trigger);
        }

        Assert.Equal(0, (await tenant.DeadLettersAsync()).GetArrayLength());
        Assert.All(tenant.Webhooks, w => Assert.InRange(w.Status, 200, 299));
        // Stripe's timestamps are whole seconds; each step on a subject is a second after the last,
        // so Licenzy orders them as they happened.
        var created = tenant.Webhooks.Select(w => w.Event.Created).ToList();
        Assert.Equal(created.Order(), created);
    }

    [Fact]
    public async Task Events_Licenzy_refuses_wait_and_go_first_with_the_next_trigger()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);
        // Two rolls: a replaced secret stays accepted for 24 hours, so only the second one retires the sandbox's.
        await tenant.ConnectStripeAsync("whsec_another_secret");
        await tenant.ConnectStripeAsync("whsec_yet_another_secret");

        var refused = await tenant.TriggerAsync("user_1", "payment_failure");

        var problem = await Problems.AssertProblemAsync(refused, HttpStatusCode.BadGateway, "webhook_delivery_failed");
        Assert.Equal("invoice.payment_failed", problem.GetProperty("failed_event").GetProperty("type").GetString());
        Assert.Equal(2, problem.GetProperty("waiting").GetInt32());
        Assert.Contains("Licenzy:Sandbox:WebhookSecret", problem.GetProperty("detail").GetString());
        Assert.True(await tenant.IsAllowedAsync("user_1"));

        await tenant.ConnectStripeAsync(SandboxOptions.DefaultWebhookSecret);
        var delivered = await tenant.TriggerAppliedAsync("user_1", "recovery");

        Assert.Equal(
            ["invoice.payment_failed", "customer.subscription.updated", "invoice.paid", "customer.subscription.updated"],
            delivered.Select(e => e.Type));
        Assert.True(await tenant.IsAllowedAsync("user_1"));
        Assert.Equal("active", (await SingleEntitlementAsync(tenant, "user_1")).GetProperty("status").GetString());
    }

    private static async Task<JsonElement> SingleEntitlementAsync(SandboxTenant tenant, string subjectRef) =>
        Assert.Single((await tenant.EntitlementsAsync(subjectRef)).EnumerateArray());

    private static DateTimeOffset ExpiresAt(JsonElement entitlement) => entitlement.GetProperty("expires_at").GetDateTimeOffset();
}

using Licenzy.Domain.Billing;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Products;
using Licenzy.Domain.Subjects;

namespace Licenzy.Domain.Tests;

/// <summary>How each fact is recorded: repeats change nothing, the earliest report of a start, an end or an opening wins.</summary>
public class RepeatedReportsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly SubjectState _state = SubjectState.Empty("user_1");
    private readonly Events _packs = new(Products.Credits);
    private readonly Events _pro = new(Products.Pro);

    private bool Apply(BillingEvent e) => BillingLifecycle.Apply(_state, e);

    private Entitlement Only => Assert.Single(_state.Entitlements);

    [Fact]
    public void A_repeated_full_refund_report_is_no_change_and_the_earliest_report_counts()
    {
        Apply(_packs.Checkout(T0));
        Assert.True(Apply(_packs.Refunded(T0.AddHours(2), "pi_cs_1")));
        var version = _state.Version;

        Assert.False(Apply(_packs.Refunded(T0.AddHours(3), "pi_cs_1")));
        Assert.False(Apply(_packs.Refunded(T0.AddHours(2), "pi_cs_1")));
        Assert.Equal(version, _state.Version);
        Assert.Equal(new RefundFact("pi_cs_1", T0.AddHours(2)), Assert.Single(Only.Refunds));

        Assert.True(Apply(_packs.Refunded(T0.AddHours(1), "pi_cs_1")));
        Assert.Equal(new RefundFact("pi_cs_1", T0.AddHours(1)), Assert.Single(Only.Refunds));
    }

    [Fact]
    public void A_repeated_dispute_opening_is_no_change_and_the_earliest_report_counts()
    {
        Apply(_packs.Checkout(T0));
        Assert.True(Apply(_packs.DisputeOpened(T0.AddHours(2), "pi_cs_1")));

        Assert.False(Apply(_packs.DisputeOpened(T0.AddHours(3), "pi_cs_1")));
        Assert.False(Apply(_packs.DisputeOpened(T0.AddHours(2), "pi_cs_1")));
        Assert.Equal(T0.AddHours(2), Assert.Single(Only.Disputes).OpenedAt);

        Assert.True(Apply(_packs.DisputeOpened(T0.AddHours(1), "pi_cs_1")));
        Assert.Equal(T0.AddHours(1), Assert.Single(Only.Disputes).OpenedAt);
    }

    [Fact]
    public void A_dispute_closes_once()
    {
        Apply(_packs.Checkout(T0));
        Apply(_packs.DisputeOpened(T0.AddHours(1), "pi_cs_1"));
        Assert.True(Apply(_packs.DisputeClosed(T0.AddHours(2), "pi_cs_1", won: false)));

        Assert.False(Apply(_packs.DisputeClosed(T0.AddHours(3), "pi_cs_1", won: true)));

        var dispute = Assert.Single(Only.Disputes);
        Assert.Equal((false, T0.AddHours(2)), (dispute.Won, dispute.ClosedAt));
        Assert.Equal(EntitlementStatus.Revoked, Only.Status);
    }

    [Fact]
    public void A_closing_that_arrives_before_the_opening_is_not_an_opening()
    {
        Apply(_packs.Checkout(T0));

        Assert.True(Apply(_packs.DisputeClosed(T0.AddHours(2), "pi_cs_1", won: true)));
        Assert.Null(Assert.Single(Only.Disputes).OpenedAt);

        Assert.True(Apply(_packs.DisputeOpened(T0.AddHours(1), "pi_cs_1")));
        var dispute = Assert.Single(Only.Disputes);
        Assert.Equal((T0.AddHours(1), true, "pi_cs_1"), (dispute.OpenedAt, dispute.Won, dispute.PaymentIntentId));
        Assert.True(Only.Evaluate(T0.AddHours(3)).Available);
    }

    [Fact]
    public void A_lost_dispute_on_one_of_two_packs_takes_back_only_that_payments_units()
    {
        Apply(_packs.Checkout(T0, session: "cs_1"));
        Apply(_packs.Checkout(T0.AddMinutes(1), session: "cs_2"));

        Apply(_packs.DisputeClosed(T0.AddHours(1), "pi_cs_2", won: false));

        Assert.Equal(100, Only.UsageGranted);
        Assert.Equal("pi_cs_2", Assert.Single(Only.Disputes).PaymentIntentId);
        Assert.True(Only.Evaluate(T0.AddHours(2)).Available);
    }

    [Fact]
    public void A_pack_lost_to_a_dispute_is_revoked_as_disputed()
    {
        Apply(_packs.Checkout(T0));

        Apply(_packs.DisputeClosed(T0.AddHours(1), "pi_cs_1", won: false));

        Assert.Equal(new Availability(EntitlementStatus.Revoked, false, AvailabilityReason.Disputed, 0), Only.Evaluate(T0.AddHours(2)));
    }

    [Fact]
    public void A_refunded_pack_stays_revoked_beside_a_purchase_still_pending()
    {
        Apply(_packs.Checkout(T0, session: "cs_1"));
        Apply(_packs.Refunded(T0.AddHours(1), "pi_cs_1"));

        Apply(_packs.Checkout(T0.AddHours(2), session: "cs_2", payment: CheckoutPayment.Unpaid));

        Assert.Equal((EntitlementStatus.Revoked, AvailabilityReason.Refunded), (Only.Status, Only.Reason));
    }

    [Theory]
    [MemberData(nameof(Products.AllKinds), MemberType = typeof(Products))]
    public void A_failed_checkout_beside_a_pending_one_is_pending(Product product)
    {
        var events = new Events(product);
        Apply(events.Checkout(T0, session: "cs_1", payment: CheckoutPayment.Unpaid));
        Apply(new CheckoutAsyncPaymentFailed
        {
            EventId = events.Id(), OccurredAt = T0.AddHours(1), Product = product, CheckoutSessionId = "cs_1",
            SubscriptionId = product.Kind == ProductKind.Subscription ? "sub_1" : null,
        });
        Assert.Equal((EntitlementStatus.Expired, AvailabilityReason.PaymentFailed), (Only.Status, Only.Reason));

        Apply(events.Checkout(T0.AddHours(2), session: "cs_2", payment: CheckoutPayment.Unpaid));

        Assert.Equal((EntitlementStatus.Pending, AvailabilityReason.PaymentPending), (Only.Status, Only.Reason));
        Assert.False(Only.Purchases[0].NoPaymentRequired);
    }

    [Fact]
    public void An_async_payment_after_an_incomplete_snapshot_activates_the_subscription()
    {
        Apply(_pro.Subscription(T0, SubscriptionStatus.Incomplete, T0.AddDays(30)));
        Apply(_pro.Checkout(T0, payment: CheckoutPayment.Unpaid));

        Apply(new CheckoutAsyncPaymentSucceeded { EventId = _pro.Id(), OccurredAt = T0.AddHours(1), Product = Products.Pro, CheckoutSessionId = "cs_1", SubscriptionId = "sub_1" });

        Assert.Equal(new Availability(EntitlementStatus.Active, true, AvailabilityReason.SubscriptionActive, null), Only.Evaluate(T0.AddHours(2)));
        Assert.Equal(T0.AddHours(1), Only.StartsAt);
    }

    [Fact]
    public void The_earliest_report_of_a_payment_dates_the_purchase_in_any_order()
    {
        foreach (var order in new[] { new[] { T0.AddHours(1), T0 }, [T0, T0.AddHours(1)] })
        {
            var state = SubjectState.Empty("user_1");
            var events = new Events(Products.DayPass);
            foreach (var at in order) BillingLifecycle.Apply(state, events.Checkout(at));

            var pass = Assert.Single(state.Entitlements);
            Assert.Equal((T0, T0.AddDays(1)), (pass.StartsAt, pass.ExpiresAt));
            Assert.Null(pass.Subscription);
        }
    }

    [Fact]
    public void An_event_that_adds_no_fact_leaves_no_entitlement_but_is_remembered()
    {
        var partial = _pro.Refunded(T0, "pi_1", full: false);

        Assert.False(Apply(partial));

        Assert.Empty(_state.Entitlements);
        Assert.Equal([partial.EventId], _state.AppliedEventIds);
    }

    [Fact]
    public void The_last_512_event_ids_are_remembered()
    {
        for (var i = 1; i <= SubjectState.RememberedEvents + 1; i++) Apply(_pro.Paid(T0.AddHours(i)));

        Assert.Equal(SubjectState.RememberedEvents, _state.AppliedEventIds.Count);
        Assert.Equal(("evt_2", "evt_513"), (_state.AppliedEventIds[0], _state.AppliedEventIds[^1]));
    }

    [Fact]
    public void An_event_no_rule_knows_is_refused()
    {
        var unknown = new UnknownEvent { EventId = "evt_1", OccurredAt = T0, Product = Products.Credits };

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Apply(unknown));

        Assert.Contains("no lifecycle rule for this event", error.Message);
        Assert.Contains(nameof(UnknownEvent), error.Message);
    }

    [Fact]
    public void An_event_about_a_subscription_product_must_name_the_subscription()
    {
        var error = Assert.Throws<ArgumentException>(() => Apply(_pro.Failed(T0) with { SubscriptionId = null }));

        Assert.StartsWith("InvoicePaymentFailed for a subscription product needs a subscription id", error.Message);
    }

    [Fact]
    public void Entitlement_ids_are_stable_across_releases()
    {
        Apply(_pro.Checkout(T0));
        Apply(_packs.Checkout(T0) with { EventId = "evt_pack" });

        Assert.Equal(["ent_465098707daf7313eb2a5ee7", "ent_55635e459ed5d8822ab8cde6"], _state.Entitlements.Select(e => e.Id));
    }

    private sealed record UnknownEvent : BillingEvent;
}

using Licenzy.Domain.Billing;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Products;
using Licenzy.Domain.Subjects;
using Microsoft.Extensions.Time.Testing;

namespace Licenzy.Domain.Tests;

/// <summary>The subscription rows of the lifecycle table in API.md, one test (or theory) each.</summary>
public class SubscriptionLifecycleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset PeriodEnd = T0.AddDays(30);

    private readonly FakeTimeProvider _clock = new(T0);
    private readonly SubjectState _state = SubjectState.Empty("user_1");

    private Events Pro(int paymentFailureGraceDays = 0, int gracePeriodDays = 7) =>
        new(Products.Pro with { PaymentFailureGraceDays = paymentFailureGraceDays, GracePeriodDays = gracePeriodDays });

    private Entitlement Apply(params BillingEvent[] events)
    {
        foreach (var e in events) BillingLifecycle.Apply(_state, e);
        return Assert.Single(_state.Entitlements);
    }

    private Availability Now(Entitlement entitlement) => entitlement.Evaluate(_clock.GetUtcNow());

    [Theory]
    [InlineData(SubscriptionStatus.Active, EntitlementStatus.Active, true, AvailabilityReason.SubscriptionActive)]
    [InlineData(SubscriptionStatus.Trialing, EntitlementStatus.Trialing, true, AvailabilityReason.SubscriptionTrialing)]
    [InlineData(SubscriptionStatus.PastDue, EntitlementStatus.Suspended, false, AvailabilityReason.PaymentFailed)]
    [InlineData(SubscriptionStatus.Unpaid, EntitlementStatus.Suspended, false, AvailabilityReason.PaymentFailed)]
    [InlineData(SubscriptionStatus.Paused, EntitlementStatus.Suspended, false, AvailabilityReason.SubscriptionPaused)]
    [InlineData(SubscriptionStatus.Incomplete, EntitlementStatus.Pending, false, AvailabilityReason.PaymentPending)]
    [InlineData(SubscriptionStatus.IncompleteExpired, EntitlementStatus.Expired, false, AvailabilityReason.PaymentFailed)]
    public void Stripes_subscription_status_maps_to_an_entitlement(SubscriptionStatus stripe, EntitlementStatus status, bool available, AvailabilityReason reason)
    {
        var events = Pro();

        var entitlement = Apply(events.Subscription(T0, stripe, PeriodEnd));

        Assert.Equal(new Availability(status, available, reason, null), Now(entitlement));
        Assert.Equal(PeriodEnd, entitlement.ExpiresAt);
    }

    [Fact]
    public void A_canceled_status_is_treated_as_deleted()
    {
        var events = Pro();
        var entitlement = Apply(events.Checkout(T0), events.Subscription(T0.AddDays(2), SubscriptionStatus.Canceled, PeriodEnd));

        Assert.Equal(new Availability(EntitlementStatus.Canceled, true, AvailabilityReason.InGracePeriod, null), Now(entitlement));
        Assert.Equal(T0.AddDays(2 + 7), entitlement.GraceEndsAt);
    }

    [Fact]
    public void Expiry_follows_the_period_end()
    {
        var events = Pro();

        var entitlement = Apply(events.Checkout(T0), events.Subscription(T0, SubscriptionStatus.Active, PeriodEnd),
            events.Paid(PeriodEnd, PeriodEnd.AddDays(30)), events.Subscription(PeriodEnd, SubscriptionStatus.Active, PeriodEnd.AddDays(30)));

        Assert.Equal(PeriodEnd.AddDays(30), entitlement.ExpiresAt);
        Assert.Equal(T0, entitlement.StartsAt);
    }

    [Fact]
    public void A_failed_invoice_suspends_at_once_without_grace_days()
    {
        var events = Pro();
        var entitlement = Apply(events.Checkout(T0), events.Subscription(T0, SubscriptionStatus.Active, PeriodEnd));

        entitlement = Apply(events.Failed(PeriodEnd));

        Assert.Equal(new Availability(EntitlementStatus.Suspended, false, AvailabilityReason.PaymentFailed, null), Now(entitlement));
        Assert.Null(entitlement.GraceEndsAt);
    }

    [Fact]
    public void A_failed_invoice_keeps_access_for_the_products_grace_days_then_suspends()
    {
        var events = Pro(paymentFailureGraceDays: 3);
        Apply(events.Checkout(T0), events.Subscription(T0, SubscriptionStatus.Active, PeriodEnd));

        var entitlement = Apply(events.Failed(PeriodEnd), events.Subscription(PeriodEnd, SubscriptionStatus.PastDue, PeriodEnd.AddDays(30)));
        Assert.Equal(PeriodEnd.AddDays(3), entitlement.GraceEndsAt);

        _clock.SetUtcNow(PeriodEnd.AddDays(3).AddTicks(-1));
        Assert.Equal(new Availability(EntitlementStatus.Suspended, true, AvailabilityReason.InGracePeriod, null), Now(entitlement));
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(new Availability(EntitlementStatus.Suspended, false, AvailabilityReason.PaymentFailed, null), Now(entitlement));
    }

    [Fact]
    public void A_paid_invoice_restores_a_suspended_subscription_and_moves_expiry()
    {
        var events = Pro();
        Apply(events.Checkout(T0), events.Subscription(T0, SubscriptionStatus.Active, PeriodEnd),
            events.Failed(PeriodEnd), events.Subscription(PeriodEnd, SubscriptionStatus.PastDue, PeriodEnd.AddDays(30)));
        _clock.SetUtcNow(PeriodEnd.AddDays(1));

        var entitlement = Apply(events.Paid(PeriodEnd.AddDays(1), PeriodEnd.AddDays(30)));

        Assert.Equal(new Availability(EntitlementStatus.Active, true, AvailabilityReason.SubscriptionActive, null), Now(entitlement));
        Assert.Equal(PeriodEnd.AddDays(30), entitlement.ExpiresAt);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(30)]
    public void Deletion_keeps_access_for_the_grace_period_then_expires(int graceDays)
    {
        var events = Pro(gracePeriodDays: graceDays);
        var canceledAt = T0.AddDays(10);
        Apply(events.Checkout(T0), events.Subscription(T0, SubscriptionStatus.Active, PeriodEnd));

        var entitlement = Apply(events.Deleted(canceledAt));
        Assert.Equal(canceledAt.AddDays(graceDays), entitlement.GraceEndsAt);

        _clock.SetUtcNow(canceledAt.AddDays(graceDays).AddTicks(-1));
        var inGrace = Now(entitlement);
        if (graceDays > 0) Assert.Equal(new Availability(EntitlementStatus.Canceled, true, AvailabilityReason.InGracePeriod, null), inGrace);
        _clock.SetUtcNow(canceledAt.AddDays(graceDays));
        Assert.Equal(new Availability(EntitlementStatus.Expired, false, AvailabilityReason.SubscriptionCanceled, null), Now(entitlement));
    }

    [Fact]
    public void A_full_refund_revokes_and_a_partial_one_changes_nothing()
    {
        var events = Pro();
        Apply(events.Checkout(T0), events.Paid(T0, PeriodEnd));
        var version = _state.Version;

        Apply(events.Refunded(T0.AddDays(1), "pi_invoice_1", full: false));
        Assert.Equal(version, _state.Version);
        Assert.True(Now(_state.Entitlements[0]).Available);

        var entitlement = Apply(events.Refunded(T0.AddDays(2), "pi_invoice_1"));
        Assert.Equal(new Availability(EntitlementStatus.Revoked, false, AvailabilityReason.Refunded, null), Now(entitlement));
        Assert.Equal(version + 1, _state.Version);
    }

    [Fact]
    public void A_dispute_suspends_and_a_won_dispute_restores()
    {
        var events = Pro();
        Apply(events.Checkout(T0), events.Subscription(T0, SubscriptionStatus.Active, PeriodEnd));

        var entitlement = Apply(events.DisputeOpened(T0.AddDays(3), "pi_1"));
        Assert.Equal(new Availability(EntitlementStatus.Suspended, false, AvailabilityReason.Disputed, null), Now(entitlement));

        entitlement = Apply(events.DisputeClosed(T0.AddDays(9), "pi_1", won: true));
        Assert.Equal(new Availability(EntitlementStatus.Active, true, AvailabilityReason.SubscriptionActive, null), Now(entitlement));
    }

    [Fact]
    public void A_lost_dispute_revokes()
    {
        var events = Pro();
        Apply(events.Checkout(T0), events.DisputeOpened(T0.AddDays(3), "pi_1"));

        var entitlement = Apply(events.DisputeClosed(T0.AddDays(9), "pi_1", won: false));

        Assert.Equal(new Availability(EntitlementStatus.Revoked, false, AvailabilityReason.Disputed, null), Now(entitlement));
    }

    [Fact]
    public void The_version_grows_by_one_per_change_and_never_on_a_duplicate()
    {
        var events = Pro();
        var renewal = events.Paid(PeriodEnd, PeriodEnd.AddDays(30));

        Apply(events.Checkout(T0));
        Assert.Equal(1, _state.Version);
        Apply(renewal);
        Assert.Equal(2, _state.Version);
        Apply(renewal, renewal with { EventId = "evt_copy" }, events.Subscription(T0.AddSeconds(-5), SubscriptionStatus.Incomplete));
        Assert.Equal(3, _state.Version); // the stale snapshot is a new fact (period, start) but not a newer one
    }
}

public class OneTimeLifecycleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_refunded_usage_pack_is_revoked()
    {
        var state = SubjectState.Empty("user_1");
        var events = new Events(Products.Credits);
        BillingLifecycle.Apply(state, events.Checkout(T0));

        BillingLifecycle.Apply(state, events.Refunded(T0.AddHours(1), "pi_cs_1"));

        var availability = state.Entitlements[0].Evaluate(T0.AddHours(2));
        Assert.Equal(new Availability(EntitlementStatus.Revoked, false, AvailabilityReason.Refunded, 0), availability);
    }

    [Fact]
    public void Refunding_one_of_two_packs_takes_back_only_its_units()
    {
        var state = SubjectState.Empty("user_1");
        var events = new Events(Products.Credits);
        BillingLifecycle.Apply(state, events.Checkout(T0, session: "cs_1"));
        BillingLifecycle.Apply(state, events.Checkout(T0.AddMinutes(1), session: "cs_2"));
        Usage.UsageLedger.Consume(state, 130, T0.AddMinutes(2));

        BillingLifecycle.Apply(state, events.Refunded(T0.AddHours(1), "pi_cs_2"));

        var pack = state.Entitlements[0];
        Assert.Equal(100, pack.UsageGranted);
        Assert.Equal(0, pack.UsageRemaining);
        Assert.Equal(AvailabilityReason.UsageExhausted, pack.Evaluate(T0.AddHours(2)).Reason);
    }

    [Fact]
    public void Refunding_one_of_two_stacked_passes_shortens_the_stack()
    {
        var state = SubjectState.Empty("user_1");
        var events = new Events(Products.DayPass);
        BillingLifecycle.Apply(state, events.Checkout(T0, session: "cs_1"));
        BillingLifecycle.Apply(state, events.Checkout(T0.AddHours(1), session: "cs_2"));
        Assert.Equal(T0.AddDays(2), state.Entitlements[0].ExpiresAt);

        BillingLifecycle.Apply(state, events.Refunded(T0.AddHours(2), "pi_cs_2"));

        Assert.Equal(T0.AddDays(1), state.Entitlements[0].ExpiresAt);
        Assert.True(state.Entitlements[0].Evaluate(T0.AddHours(3)).Available);
    }

    [Fact]
    public void An_open_dispute_suspends_a_pass()
    {
        var state = SubjectState.Empty("user_1");
        var events = new Events(Products.DayPass);
        BillingLifecycle.Apply(state, events.Checkout(T0));

        BillingLifecycle.Apply(state, events.DisputeOpened(T0.AddHours(1), "pi_cs_1"));

        Assert.Equal(new Availability(EntitlementStatus.Suspended, false, AvailabilityReason.Disputed, null), state.Entitlements[0].Evaluate(T0.AddHours(2)));
    }
}

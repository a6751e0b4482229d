using Licenzy.Domain.Billing;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Subjects;

namespace Licenzy.Domain.Tests;

/// <summary>Which of a subscription's facts decides its status, its dates and its last update.</summary>
public class SubscriptionFactsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset PeriodEnd = T0.AddDays(30);

    private readonly SubjectState _state = SubjectState.Empty("user_1");
    private readonly Events _events = new(Products.Pro);

    private bool Apply(BillingEvent e) => BillingLifecycle.Apply(_state, e);

    private Entitlement Only => Assert.Single(_state.Entitlements);

    private (EntitlementStatus, AvailabilityReason?) Status => (Only.Status, Only.Reason);

    [Fact]
    public void The_earliest_report_of_the_end_wins()
    {
        Apply(_events.Checkout(T0));
        Apply(_events.Subscription(T0, SubscriptionStatus.Active, PeriodEnd));
        Apply(_events.Deleted(T0.AddDays(10)));
        Assert.Equal(T0.AddDays(17), Only.GraceEndsAt);

        Assert.True(Apply(_events.Subscription(T0.AddDays(9), SubscriptionStatus.Canceled, PeriodEnd, endedAt: T0.AddDays(8))));
        Assert.Equal((T0.AddDays(8), T0.AddDays(15)), (Only.Subscription!.EndedAt, Only.GraceEndsAt));

        Assert.False(Apply(_events.Subscription(T0.AddDays(9), SubscriptionStatus.Canceled, PeriodEnd, endedAt: T0.AddDays(12))));
        Assert.False(Apply(_events.Deleted(T0.AddDays(8))));
        Assert.Equal(T0.AddDays(8), Only.Subscription!.EndedAt);
    }

    [Fact]
    public void A_deletion_dates_the_end_by_its_ended_at_and_moves_the_period_end()
    {
        Apply(_events.Checkout(T0));

        Apply(new SubscriptionDeleted
        {
            EventId = _events.Id(), OccurredAt = T0.AddDays(10), Product = Products.Pro, SubscriptionId = "sub_1",
            EndedAt = T0.AddDays(8), PeriodEnd = PeriodEnd,
        });

        Assert.Equal((T0.AddDays(15), PeriodEnd), (Only.GraceEndsAt, Only.ExpiresAt));
    }

    [Fact]
    public void A_late_deletion_reporting_an_earlier_end_moves_the_end()
    {
        Apply(_events.Checkout(T0));
        Apply(_events.Deleted(T0.AddDays(10)));

        Assert.True(Apply(_events.Deleted(T0.AddDays(9)) with { EndedAt = T0.AddDays(8) }));

        Assert.Equal((T0.AddDays(8), T0.AddDays(15)), (Only.Subscription!.EndedAt, Only.GraceEndsAt));
    }

    [Fact]
    public void A_deletion_without_an_end_ends_when_it_happened()
    {
        Apply(_events.Checkout(T0));

        Apply(_events.Deleted(T0.AddDays(10)) with { EndedAt = null });

        Assert.Equal(T0.AddDays(17), Only.GraceEndsAt);
    }

    [Fact]
    public void A_canceled_snapshot_without_an_end_ends_when_it_happened()
    {
        Apply(_events.Checkout(T0));

        Apply(_events.Subscription(T0.AddDays(10), SubscriptionStatus.Canceled, PeriodEnd));

        Assert.Equal((T0.AddDays(10), T0.AddDays(17)), (Only.Subscription!.EndedAt, Only.GraceEndsAt));
    }

    [Fact]
    public void A_canceled_snapshot_whose_end_is_not_recorded_still_cancels_with_grace()
    {
        var entitlement = Entitlement.For("user_1", Products.Pro, "subscription:sub_1");
        entitlement.Subscription = new SubscriptionFacts { Snapshot = new SubscriptionSnapshot(T0.AddDays(10), SubscriptionStatus.Canceled, PeriodEnd) };

        entitlement.Recompute();

        Assert.Equal((EntitlementStatus.Canceled, AvailabilityReason.SubscriptionCanceled, T0.AddDays(17)),
            (entitlement.Status, entitlement.Reason, entitlement.GraceEndsAt));
    }

    [Theory]
    [InlineData(SubscriptionStatus.Active)]
    [InlineData(SubscriptionStatus.Trialing)]
    public void An_active_or_trialing_snapshot_starts_the_subscription(SubscriptionStatus status)
    {
        Apply(_events.Subscription(T0, status, PeriodEnd));

        Assert.Equal(T0, Only.StartsAt);
    }

    [Theory]
    [InlineData(SubscriptionStatus.Incomplete)]
    [InlineData(SubscriptionStatus.PastDue)]
    [InlineData(SubscriptionStatus.Paused)]
    public void Other_snapshots_do_not_start_it(SubscriptionStatus status)
    {
        Apply(_events.Subscription(T0, status, PeriodEnd));

        Assert.Null(Only.StartsAt);
    }

    [Fact]
    public void The_earliest_start_wins_and_a_copy_of_a_payment_is_no_change()
    {
        Apply(_events.Subscription(T0.AddHours(5), SubscriptionStatus.Active, PeriodEnd));
        Assert.True(Apply(_events.Paid(T0.AddHours(3), PeriodEnd)));
        Assert.Equal(T0.AddHours(3), Only.StartsAt);

        Assert.False(Apply(_events.Paid(T0.AddHours(3), PeriodEnd)));
        Assert.False(Apply(_events.Subscription(T0.AddHours(5), SubscriptionStatus.Active, PeriodEnd)));
        Assert.Equal(T0.AddHours(3), Only.StartsAt);
    }

    [Fact]
    public void A_payment_alone_makes_the_subscription_active()
    {
        Apply(_events.Paid(T0, PeriodEnd));

        Assert.Equal((EntitlementStatus.Active, null), Status);
    }

    [Fact]
    public void A_failure_without_a_snapshot_suspends()
    {
        Apply(_events.Checkout(T0));

        Apply(_events.Failed(T0.AddHours(1)));

        Assert.Equal((EntitlementStatus.Suspended, AvailabilityReason.PaymentFailed), Status);
    }

    [Fact]
    public void A_failure_before_any_payment_suspends()
    {
        Apply(_events.Failed(T0));

        Assert.Equal((EntitlementStatus.Suspended, AvailabilityReason.PaymentFailed), Status);
    }

    [Fact]
    public void A_retried_payment_that_succeeds_ends_the_failure()
    {
        Apply(_events.Paid(T0));
        Apply(_events.Failed(T0.AddHours(1)));
        Assert.Equal((EntitlementStatus.Suspended, AvailabilityReason.PaymentFailed), Status);

        Apply(_events.Paid(T0.AddHours(2)));

        Assert.Equal((EntitlementStatus.Active, null), Status);
        Assert.Equal(T0.AddHours(2), Only.Subscription!.LastPaidAt);
    }

    [Fact]
    public void A_payment_in_the_same_second_as_a_failure_counts_as_after_it()
    {
        Apply(_events.Failed(T0));

        Apply(_events.Paid(T0));

        Assert.Equal((EntitlementStatus.Active, null), Status);
    }

    [Fact]
    public void A_failure_in_the_same_second_as_an_active_snapshot_yields_to_the_snapshot()
    {
        Apply(_events.Checkout(T0));
        Apply(_events.Failed(T0.AddHours(1)));

        Apply(_events.Subscription(T0.AddHours(1), SubscriptionStatus.Active, PeriodEnd));

        Assert.Equal((EntitlementStatus.Active, null), Status);
    }

    [Fact]
    public void A_payment_in_the_same_second_as_a_past_due_snapshot_yields_to_the_snapshot()
    {
        Apply(_events.Checkout(T0));
        Apply(_events.Failed(T0.AddHours(1)));
        Apply(_events.Subscription(T0.AddHours(2), SubscriptionStatus.PastDue, PeriodEnd));

        Apply(_events.Paid(T0.AddHours(2)));

        Assert.Equal((EntitlementStatus.Suspended, AvailabilityReason.PaymentFailed), Status);
    }

    [Fact]
    public void Payment_failure_grace_runs_from_the_failure_not_from_the_later_snapshot()
    {
        var events = new Events(Products.Pro with { PaymentFailureGraceDays = 3 });
        Apply(events.Checkout(T0));

        Apply(events.Failed(PeriodEnd));
        Apply(events.Subscription(PeriodEnd.AddHours(1), SubscriptionStatus.PastDue, PeriodEnd));

        Assert.Equal(PeriodEnd.AddDays(3), Only.GraceEndsAt);
    }

    [Fact]
    public void A_repeated_failure_is_no_change_and_only_the_last_50_are_remembered()
    {
        Apply(_events.Checkout(T0));
        for (var i = 1; i <= SubscriptionFacts.RememberedFailures; i++) Apply(_events.Failed(T0.AddHours(i)));
        Assert.Equal(SubscriptionFacts.RememberedFailures, Only.Subscription!.FailedAt.Count);
        Assert.False(Apply(_events.Failed(T0.AddHours(1))));

        Apply(_events.Failed(T0.AddHours(51)));

        Assert.Equal(SubscriptionFacts.RememberedFailures, Only.Subscription!.FailedAt.Count);
        Assert.Equal(T0.AddHours(2), Only.Subscription!.FailedAt[0]);
    }

    [Fact]
    public void A_copy_of_a_snapshot_is_no_change()
    {
        Assert.True(Apply(_events.Subscription(T0, SubscriptionStatus.PastDue, PeriodEnd)));

        Assert.False(Apply(_events.Subscription(T0, SubscriptionStatus.PastDue, PeriodEnd)));
    }

    [Fact]
    public void A_subscription_with_no_purchase_yet_stays_pending_whatever_its_disputes_say()
    {
        Apply(_events.DisputeOpened(T0, "pi_1"));
        Assert.Equal((EntitlementStatus.Suspended, AvailabilityReason.Disputed), Status);

        Apply(_events.DisputeClosed(T0.AddDays(5), "pi_1", won: true));

        Assert.Equal((EntitlementStatus.Pending, AvailabilityReason.PaymentPending), Status);
    }

    [Fact]
    public void A_subscription_bought_through_async_payment_is_active_not_trialing()
    {
        Apply(_events.Checkout(T0, payment: CheckoutPayment.Unpaid));

        Apply(new CheckoutAsyncPaymentSucceeded { EventId = _events.Id(), OccurredAt = T0.AddHours(1), Product = Products.Pro, CheckoutSessionId = "cs_1", SubscriptionId = "sub_1" });

        Assert.Equal((EntitlementStatus.Active, null), Status);
    }

    [Fact]
    public void The_last_update_is_the_time_of_the_latest_fact_of_any_kind()
    {
        Apply(_events.Checkout(T0));
        Assert.Equal(T0, Only.UpdatedAt);

        Apply(_events.Subscription(T0.AddHours(1), SubscriptionStatus.Active, PeriodEnd));
        Assert.Equal(T0.AddHours(1), Only.UpdatedAt);
        Apply(_events.Paid(T0.AddHours(2)));
        Assert.Equal(T0.AddHours(2), Only.UpdatedAt);
        Apply(_events.Failed(T0.AddHours(4)));
        Assert.Equal(T0.AddHours(4), Only.UpdatedAt);
        Apply(_events.Failed(T0.AddHours(3)));
        Assert.Equal(T0.AddHours(4), Only.UpdatedAt);
        Apply(_events.DisputeOpened(T0.AddHours(5), "pi_1"));
        Assert.Equal(T0.AddHours(5), Only.UpdatedAt);
        Apply(_events.DisputeClosed(T0.AddHours(6), "pi_1", won: true));
        Assert.Equal(T0.AddHours(6), Only.UpdatedAt);
        Apply(_events.Subscription(T0.AddHours(7), SubscriptionStatus.Canceled, PeriodEnd, endedAt: T0.AddHours(8)));
        Assert.Equal(T0.AddHours(8), Only.UpdatedAt);
        Apply(_events.Refunded(T0.AddHours(9), "pi_2"));
        Assert.Equal(T0.AddHours(9), Only.UpdatedAt);
    }
}

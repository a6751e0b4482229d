using Licenzy.Domain.Billing;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Products;
using Licenzy.Domain.Subjects;

namespace Licenzy.Domain.Tests;

/// <summary>The purchase rows of the lifecycle table, for each kind of product.</summary>
public class CheckoutLifecycleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);

    private static CheckoutCompleted Completed(Product product, CheckoutPayment payment, string session = "cs_1", string id = "evt_1", DateTimeOffset? at = null) => new()
    {
        EventId = id, OccurredAt = at ?? T0, Product = product, CheckoutSessionId = session,
        SubscriptionId = product.Kind == ProductKind.Subscription ? "sub_" + session : null,
        PaymentIntentId = product.Kind == ProductKind.Subscription ? null : "pi_" + session,
        Payment = payment,
    };

    [Theory]
    [MemberData(nameof(Products.AllKinds), MemberType = typeof(Products))]
    public void Paid_checkout_makes_the_entitlement_available(Product product)
    {
        var state = SubjectState.Empty("user_1");

        Assert.True(BillingLifecycle.Apply(state, Completed(product, CheckoutPayment.Paid)));

        var entitlement = Assert.Single(state.Entitlements);
        var now = entitlement.Evaluate(T0.AddMinutes(1));
        Assert.True(now.Available);
        Assert.Equal(EntitlementStatus.Active, now.Status);
        Assert.Equal(product.Kind switch
        {
            ProductKind.Subscription => AvailabilityReason.SubscriptionActive,
            ProductKind.TimePass => AvailabilityReason.PassActive,
            _ => AvailabilityReason.UsageAvailable,
        }, now.Reason);
        Assert.Equal(1, state.Version);
    }

    [Theory]
    [MemberData(nameof(Products.AllKinds), MemberType = typeof(Products))]
    public void Unpaid_checkout_is_pending_without_access(Product product)
    {
        var state = SubjectState.Empty("user_1");

        BillingLifecycle.Apply(state, Completed(product, CheckoutPayment.Unpaid));

        var availability = Assert.Single(state.Entitlements).Evaluate(T0);
        Assert.False(availability.Available);
        Assert.Equal(EntitlementStatus.Pending, availability.Status);
        Assert.Equal(AvailabilityReason.PaymentPending, availability.Reason);
    }

    [Theory]
    [MemberData(nameof(Products.AllKinds), MemberType = typeof(Products))]
    public void Async_payment_success_grants_a_pending_purchase(Product product)
    {
        var state = SubjectState.Empty("user_1");
        BillingLifecycle.Apply(state, Completed(product, CheckoutPayment.Unpaid));

        BillingLifecycle.Apply(state, new CheckoutAsyncPaymentSucceeded
        {
            EventId = "evt_2", OccurredAt = T0.AddHours(1), Product = product, CheckoutSessionId = "cs_1",
            SubscriptionId = product.Kind == ProductKind.Subscription ? "sub_cs_1" : null,
        });

        var entitlement = Assert.Single(state.Entitlements);
        Assert.True(entitlement.Evaluate(T0.AddHours(1)).Available);
        Assert.Equal(T0.AddHours(1), entitlement.StartsAt);
        Assert.Equal(2, state.Version);
    }

    [Theory]
    [MemberData(nameof(Products.AllKinds), MemberType = typeof(Products))]
    public void Async_payment_failure_leaves_no_access(Product product)
    {
        var state = SubjectState.Empty("user_1");
        BillingLifecycle.Apply(state, Completed(product, CheckoutPayment.Unpaid));

        BillingLifecycle.Apply(state, new CheckoutAsyncPaymentFailed
        {
            EventId = "evt_2", OccurredAt = T0.AddHours(1), Product = product, CheckoutSessionId = "cs_1",
            SubscriptionId = product.Kind == ProductKind.Subscription ? "sub_cs_1" : null,
        });

        var availability = Assert.Single(state.Entitlements).Evaluate(T0.AddHours(1));
        Assert.False(availability.Available);
        Assert.Equal(EntitlementStatus.Expired, availability.Status);
        Assert.Equal(AvailabilityReason.PaymentFailed, availability.Reason);
    }

    [Fact]
    public void A_late_unpaid_completion_does_not_undo_a_payment()
    {
        var state = SubjectState.Empty("user_1");
        BillingLifecycle.Apply(state, new CheckoutAsyncPaymentSucceeded
        {
            EventId = "evt_2", OccurredAt = T0.AddHours(1), Product = Products.DayPass, CheckoutSessionId = "cs_1",
            PaymentIntentId = "pi_cs_1",
        });

        Assert.False(BillingLifecycle.Apply(state, Completed(Products.DayPass, CheckoutPayment.Unpaid, id: "evt_1")));

        Assert.True(Assert.Single(state.Entitlements).Evaluate(T0.AddHours(2)).Available);
        Assert.Equal(1, state.Version);
    }

    [Fact]
    public void The_same_event_twice_changes_nothing_the_second_time()
    {
        var state = SubjectState.Empty("user_1");
        var paid = Completed(Products.Credits, CheckoutPayment.Paid);

        Assert.True(BillingLifecycle.Apply(state, paid));
        Assert.False(BillingLifecycle.Apply(state, paid));
        Assert.False(BillingLifecycle.Apply(state, paid with { EventId = "evt_redelivered_as_new_id" }));

        Assert.Equal(100, Assert.Single(state.Entitlements).UsageGranted);
        Assert.Equal(1, state.Version);
    }

    [Fact]
    public void A_subscription_checkout_without_payment_is_a_trial()
    {
        var state = SubjectState.Empty("user_1");

        BillingLifecycle.Apply(state, Completed(Products.Pro, CheckoutPayment.NoPaymentRequired));

        var availability = Assert.Single(state.Entitlements).Evaluate(T0);
        Assert.True(availability.Available);
        Assert.Equal(EntitlementStatus.Trialing, availability.Status);
        Assert.Equal(AvailabilityReason.SubscriptionTrialing, availability.Reason);
    }

    [Fact]
    public void Two_subscriptions_are_two_entitlements()
    {
        var state = SubjectState.Empty("user_1");

        BillingLifecycle.Apply(state, Completed(Products.Pro, CheckoutPayment.Paid, session: "cs_1", id: "evt_1"));
        BillingLifecycle.Apply(state, Completed(Products.Pro, CheckoutPayment.Paid, session: "cs_2", id: "evt_2"));

        Assert.Equal(2, state.Entitlements.Select(e => e.Id).Distinct().Count());
    }
}

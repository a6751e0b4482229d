using Licenzy.Domain.Billing;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Subjects;
using Microsoft.Extensions.Time.Testing;

namespace Licenzy.Domain.Tests;

public class TimePassTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);

    private static CheckoutCompleted Pass(string session, DateTimeOffset at) => new()
    {
        EventId = "evt_" + session, OccurredAt = at, Product = Products.DayPass, CheckoutSessionId = session,
        PaymentIntentId = "pi_" + session, Payment = CheckoutPayment.Paid,
    };

    [Fact]
    public void A_pass_expires_at_read_time_one_tick_after_its_end()
    {
        var clock = new FakeTimeProvider(T0);
        var state = SubjectState.Empty("user_1");
        BillingLifecycle.Apply(state, Pass("cs_1", clock.GetUtcNow()));
        var entitlement = Assert.Single(state.Entitlements);
        Assert.Equal(T0.AddDays(1), entitlement.ExpiresAt);

        clock.Advance(TimeSpan.FromDays(1) - TimeSpan.FromTicks(1));
        Assert.True(entitlement.Evaluate(clock.GetUtcNow()).Available);

        clock.Advance(TimeSpan.FromTicks(1));
        var expired = entitlement.Evaluate(clock.GetUtcNow());
        Assert.False(expired.Available);
        Assert.Equal(EntitlementStatus.Expired, expired.Status);
        Assert.Equal(AvailabilityReason.PassExpired, expired.Reason);
    }

    [Fact]
    public void A_second_pass_bought_while_the_first_runs_extends_from_its_end()
    {
        var state = SubjectState.Empty("user_1");

        BillingLifecycle.Apply(state, Pass("cs_1", T0));
        BillingLifecycle.Apply(state, Pass("cs_2", T0.AddHours(6)));

        var entitlement = Assert.Single(state.Entitlements);
        Assert.Equal(T0, entitlement.StartsAt);
        Assert.Equal(T0.AddDays(2), entitlement.ExpiresAt);
    }

    [Fact]
    public void A_second_pass_bought_after_the_first_ended_starts_when_bought()
    {
        var state = SubjectState.Empty("user_1");

        BillingLifecycle.Apply(state, Pass("cs_1", T0));
        BillingLifecycle.Apply(state, Pass("cs_2", T0.AddDays(3)));

        Assert.Equal(T0.AddDays(4), Assert.Single(state.Entitlements).ExpiresAt);
    }

    [Fact]
    public void Stacked_passes_end_the_same_whichever_event_arrives_first()
    {
        var inOrder = SubjectState.Empty("user_1");
        BillingLifecycle.Apply(inOrder, Pass("cs_1", T0));
        BillingLifecycle.Apply(inOrder, Pass("cs_2", T0.AddHours(6)));

        var reversed = SubjectState.Empty("user_1");
        BillingLifecycle.Apply(reversed, Pass("cs_2", T0.AddHours(6)));
        BillingLifecycle.Apply(reversed, Pass("cs_1", T0));

        Assert.Equal(inOrder.Entitlements[0].ExpiresAt, reversed.Entitlements[0].ExpiresAt);
        Assert.Equal(inOrder.Entitlements[0].StartsAt, reversed.Entitlements[0].StartsAt);
    }
}

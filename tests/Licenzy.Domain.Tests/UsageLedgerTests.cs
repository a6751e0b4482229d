using Licenzy.Domain.Billing;
using Licenzy.Domain.Subjects;
using Licenzy.Domain.Usage;

namespace Licenzy.Domain.Tests;

public class UsageLedgerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);

    private static SubjectState WithPacks(int packs)
    {
        var state = SubjectState.Empty("user_1");
        for (var i = 0; i < packs; i++)
        {
            BillingLifecycle.Apply(state, new CheckoutCompleted
            {
                EventId = $"evt_{i}", OccurredAt = T0.AddMinutes(i), Product = Products.Credits,
                CheckoutSessionId = $"cs_{i}", Payment = CheckoutPayment.Paid,
            });
        }
        return state;
    }

    [Fact]
    public void Consuming_spends_units_and_grows_the_version()
    {
        var state = WithPacks(1);
        var before = state.Version;

        var outcome = UsageLedger.Consume(state, 40, T0);

        Assert.Equal(new UsageOutcome(true, 40, 60), outcome);
        Assert.Equal(before + 1, state.Version);
        Assert.Equal(60, UsageLedger.Remaining(state, T0));
    }

    [Fact]
    public void A_request_larger_than_what_is_left_spends_nothing()
    {
        var state = WithPacks(1);
        UsageLedger.Consume(state, 60, T0);
        var version = state.Version;

        var outcome = UsageLedger.Consume(state, 41, T0);

        Assert.Equal(new UsageOutcome(false, 0, 40), outcome);
        Assert.Equal(version, state.Version);
        Assert.Equal(40, UsageLedger.Remaining(state, T0));
    }

    [Fact]
    public void Spending_the_last_unit_exhausts_the_pack()
    {
        var state = WithPacks(1);

        UsageLedger.Consume(state, 100, T0);

        var availability = state.Entitlements[0].Evaluate(T0);
        Assert.False(availability.Available);
        Assert.Equal(Entitlements.AvailabilityReason.UsageExhausted, availability.Reason);
        Assert.Equal(0, availability.UsageRemaining);
    }

    [Fact]
    public void Packs_of_the_same_product_add_up()
    {
        var state = WithPacks(2);

        Assert.Equal(200, UsageLedger.Remaining(state, T0));
        Assert.True(UsageLedger.Consume(state, 150, T0).Consumed);
        Assert.Equal(50, UsageLedger.Remaining(state, T0));
    }

    [Fact]
    public void Nothing_to_spend_without_a_pack()
    {
        var outcome = UsageLedger.Consume(SubjectState.Empty("user_1"), 1, T0);

        Assert.Equal(new UsageOutcome(false, 0, 0), outcome);
    }
}

using Licenzy.Domain.Billing;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Products;
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

/// <summary>Spending across packs of different products, each its own entitlement.</summary>
public class SeveralPacksTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Product BigCredits = Products.Credits with { Code = "CREDITS_500", StripePriceId = "price_credits_500", UsageUnits = 500 };

    private readonly SubjectState _state = SubjectState.Empty("user_1");

    private Entitlement Buy(Product product, DateTimeOffset at)
    {
        BillingLifecycle.Apply(_state, new Events(product).Checkout(at, session: "cs_" + product.Code) with { EventId = "evt_" + product.Code });
        return _state.Entitlements.Single(e => e.ProductCode == product.Code);
    }

    [Fact]
    public void Units_left_are_the_sum_over_the_packs()
    {
        Buy(BigCredits, T0);
        Buy(Products.Credits, T0.AddMinutes(1));

        Assert.Equal(600, UsageLedger.Remaining(_state, T0.AddHours(1)));
    }

    [Fact]
    public void The_oldest_pack_is_spent_first()
    {
        var older = Buy(BigCredits, T0);
        var newer = Buy(Products.Credits, T0.AddMinutes(1));

        Assert.Equal(new UsageOutcome(true, 30, 570), UsageLedger.Consume(_state, 30, T0.AddHours(1)));

        Assert.Equal((470, 100), (older.UsageRemaining, newer.UsageRemaining));
    }

    [Fact]
    public void A_request_larger_than_the_oldest_pack_continues_in_the_next()
    {
        var older = Buy(BigCredits, T0);
        var newer = Buy(Products.Credits, T0.AddMinutes(1));

        Assert.Equal(new UsageOutcome(true, 520, 80), UsageLedger.Consume(_state, 520, T0.AddHours(1)));

        Assert.Equal((0, 80), (older.UsageRemaining, newer.UsageRemaining));
    }

    [Fact]
    public void Packs_bought_in_the_same_instant_are_spent_in_id_order()
    {
        Buy(BigCredits, T0);
        Buy(Products.Credits, T0);

        UsageLedger.Consume(_state, 10, T0.AddHours(1));

        Assert.Equal([10, 0], _state.Entitlements.Select(e => e.UsageConsumed));
    }

    [Fact]
    public void A_pack_under_dispute_is_not_spendable()
    {
        Buy(BigCredits, T0);
        var undisputed = Buy(Products.Credits, T0.AddMinutes(1));
        BillingLifecycle.Apply(_state, new Events(BigCredits).DisputeOpened(T0.AddMinutes(2), "pi_cs_CREDITS_500") with { EventId = "evt_dispute" });

        Assert.Equal(100, UsageLedger.Remaining(_state, T0.AddHours(1)));
        Assert.False(UsageLedger.Consume(_state, 101, T0.AddHours(1)).Consumed);
        Assert.True(UsageLedger.Consume(_state, 100, T0.AddHours(1)).Consumed);
        Assert.Equal(0, undisputed.UsageRemaining);
    }

    [Fact]
    public void Only_the_packs_that_gave_units_record_the_spending()
    {
        var older = Buy(BigCredits, T0);
        var newer = Buy(Products.Credits, T0.AddMinutes(1));

        UsageLedger.Consume(_state, 30, T0.AddHours(1));

        Assert.Equal((T0.AddHours(1), T0.AddHours(1)), (older.LastConsumedAt, older.UpdatedAt));
        Assert.Equal((null, T0.AddMinutes(1)), (newer.LastConsumedAt, newer.UpdatedAt));
    }

    [Fact]
    public void The_last_spending_time_never_goes_back()
    {
        var pack = Buy(BigCredits, T0);

        UsageLedger.Consume(_state, 1, T0.AddHours(2));
        UsageLedger.Consume(_state, 1, T0.AddHours(1));
        Assert.Equal((T0.AddHours(2), T0.AddHours(2)), (pack.LastConsumedAt, pack.UpdatedAt));

        UsageLedger.Consume(_state, 1, T0.AddHours(3));
        Assert.Equal((T0.AddHours(3), T0.AddHours(3)), (pack.LastConsumedAt, pack.UpdatedAt));
    }

    [Fact]
    public void Spending_before_the_packs_latest_billing_fact_keeps_that_fact_as_its_update()
    {
        var pack = Buy(BigCredits, T0.AddHours(2));

        UsageLedger.Consume(_state, 1, T0.AddHours(1));

        Assert.Equal((T0.AddHours(1), T0.AddHours(2)), (pack.LastConsumedAt, pack.UpdatedAt));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(UsageLedger.MaxUnitsPerRequest + 1)]
    public void A_request_is_for_one_to_a_billion_units(long units)
    {
        Buy(BigCredits, T0);

        Assert.Throws<ArgumentOutOfRangeException>(() => UsageLedger.Consume(_state, units, T0.AddHours(1)));
        Assert.Equal(0, _state.Entitlements[0].UsageConsumed);
    }

    [Fact]
    public void A_billion_units_is_a_request_that_can_be_asked()
    {
        Buy(BigCredits, T0);

        Assert.Equal(new UsageOutcome(false, 0, 500), UsageLedger.Consume(_state, UsageLedger.MaxUnitsPerRequest, T0.AddHours(1)));
    }
}

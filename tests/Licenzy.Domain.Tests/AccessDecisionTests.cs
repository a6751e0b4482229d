using Licenzy.Domain.Access;
using Licenzy.Domain.Billing;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Subjects;

namespace Licenzy.Domain.Tests;

public class AccessDecisionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);

    private static SubjectState Bought(params (Domain.Products.Product Product, CheckoutPayment Payment)[] purchases)
    {
        var state = SubjectState.Empty("user_1");
        var i = 0;
        foreach (var (product, payment) in purchases)
        {
            i++;
            BillingLifecycle.Apply(state, new CheckoutCompleted
            {
                EventId = $"evt_{i}", OccurredAt = T0.AddMinutes(i), Product = product,
                CheckoutSessionId = $"cs_{i}", SubscriptionId = $"sub_{i}", Payment = payment,
            });
        }
        return state;
    }

    [Fact]
    public void No_state_means_no_access()
    {
        Assert.False(AccessDecision.IsAllowed(null, null, T0));
        Assert.Equal(new CustomerStatus(false, null), AccessDecision.Summarise(null, T0));
    }

    [Fact]
    public void A_feature_is_allowed_only_through_an_entitlement_that_lists_it()
    {
        var state = Bought((Products.Credits, CheckoutPayment.Paid));

        Assert.True(AccessDecision.IsAllowed(state, null, T0.AddHours(1)));
        Assert.False(AccessDecision.IsAllowed(state, "export", T0.AddHours(1)));

        var pro = Bought((Products.Pro, CheckoutPayment.Paid));
        Assert.True(AccessDecision.IsAllowed(pro, "export", T0.AddHours(1)));
        Assert.False(AccessDecision.IsAllowed(pro, "admin", T0.AddHours(1)));
    }

    [Fact]
    public void The_customer_status_is_active_when_anything_is_available()
    {
        var state = Bought((Products.Pro, CheckoutPayment.Unpaid), (Products.DayPass, CheckoutPayment.Paid));

        Assert.Equal(new CustomerStatus(true, EntitlementStatus.Active), AccessDecision.Summarise(state, T0.AddHours(1)));
    }

    [Fact]
    public void Otherwise_it_is_the_most_recent_entitlements_status()
    {
        var state = Bought((Products.DayPass, CheckoutPayment.Paid), (Products.Pro, CheckoutPayment.Unpaid));

        Assert.Equal(new CustomerStatus(false, EntitlementStatus.Pending), AccessDecision.Summarise(state, T0.AddDays(2)));
        Assert.False(AccessDecision.IsAllowed(state, null, T0.AddDays(2)));
    }
}

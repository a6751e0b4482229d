using Licenzy.Domain.Billing;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Licenses;
using Licenzy.Domain.Products;
using Licenzy.Domain.Subjects;

namespace Licenzy.Domain.Tests;

/// <summary>A license per purchase of a license-issuing product, following its entitlement through every lifecycle row.</summary>
public class LicenseTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Product Starter = Products.Pro with { Code = "STARTER", Name = "Starter Plan", IssueLicense = true, GracePeriodDays = 7 };

    private static (SubjectState State, Events Events) Bought(Product product, DateTimeOffset periodEnd)
    {
        var state = SubjectState.Empty("user_1");
        var events = new Events(product);
        BillingLifecycle.Apply(state, events.Checkout(T0, "cs_1", email: "ada@example.com"));
        if (product.Kind == ProductKind.Subscription) BillingLifecycle.Apply(state, events.Subscription(T0, SubscriptionStatus.Active, periodEnd));
        return (state, events);
    }

    private static LicenseState Now(SubjectState state, DateTimeOffset at)
    {
        var license = Assert.Single(state.Licenses);
        return license.Evaluate(state.Find(license.EntitlementId)!, at);
    }

    [Fact]
    public void A_paid_purchase_of_a_license_product_provisions_one_license_with_the_buyers_email()
    {
        var (state, _) = Bought(Starter, T0.AddDays(30));

        var license = Assert.Single(state.Licenses);
        var entitlement = Assert.Single(state.Entitlements);
        Assert.Equal(entitlement.Id, license.EntitlementId);
        Assert.Equal("cs_1", license.CheckoutSessionId);
        Assert.StartsWith("lic_", license.Id);
        Assert.False(license.HasKey);
        Assert.Equal("ada@example.com", Assert.Single(entitlement.Purchases).Email);
        Assert.Equal("Starter Plan", entitlement.PolicyName);
        Assert.Equal(new LicenseState(LicenseStatus.Active, true, T0.AddDays(30), null), Now(state, T0.AddDays(1)));
    }

    [Fact]
    public void A_product_that_issues_no_licenses_gets_none()
    {
        var (state, _) = Bought(Products.Pro, T0.AddDays(30));
        Assert.Empty(state.Licenses);
    }

    [Fact]
    public void An_unpaid_checkout_has_no_license_until_its_payment_succeeds()
    {
        var state = SubjectState.Empty("user_1");
        var events = new Events(Starter);
        BillingLifecycle.Apply(state, events.Checkout(T0, payment: CheckoutPayment.Unpaid));
        Assert.Empty(state.Licenses);

        BillingLifecycle.Apply(state, new CheckoutAsyncPaymentSucceeded
        {
            EventId = "evt_async", OccurredAt = T0.AddMinutes(5), Product = Starter, CheckoutSessionId = "cs_1", SubscriptionId = "sub_1",
        });
        Assert.True(Now(state, T0.AddMinutes(6)).Valid);
    }

    [Fact]
    public void A_failed_payment_suspends_the_license_and_a_paid_invoice_restores_it()
    {
        var (state, events) = Bought(Starter, T0.AddDays(30));
        BillingLifecycle.Apply(state, events.Failed(T0.AddDays(30)));
        Assert.Equal(new LicenseState(LicenseStatus.Suspended, false, T0.AddDays(30), null), Now(state, T0.AddDays(30).AddHours(1)));

        BillingLifecycle.Apply(state, events.Paid(T0.AddDays(31), T0.AddDays(61)));
        Assert.Equal(new LicenseState(LicenseStatus.Active, true, T0.AddDays(61), null), Now(state, T0.AddDays(31).AddHours(1)));
    }

    [Fact]
    public void A_failed_payment_with_grace_keeps_the_license_valid_until_the_grace_ends()
    {
        var (state, events) = Bought(Starter with { PaymentFailureGraceDays = 3 }, T0.AddDays(30));
        BillingLifecycle.Apply(state, events.Failed(T0.AddDays(30)));

        Assert.Equal(new LicenseState(LicenseStatus.Active, true, T0.AddDays(30), T0.AddDays(33)), Now(state, T0.AddDays(32)));
        Assert.Equal(new LicenseState(LicenseStatus.Suspended, false, T0.AddDays(30), null), Now(state, T0.AddDays(33)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(30)]
    public void A_canceled_subscription_keeps_the_license_valid_through_its_grace_then_it_expires(int graceDays)
    {
        var (state, events) = Bought(Starter with { GracePeriodDays = graceDays }, T0.AddDays(30));
        var canceledAt = T0.AddDays(10);
        BillingLifecycle.Apply(state, events.Deleted(canceledAt));
        var graceEnd = canceledAt.AddDays(graceDays);

        if (graceDays > 0)
            Assert.Equal(new LicenseState(LicenseStatus.Active, true, T0.AddDays(30), graceEnd), Now(state, graceEnd.AddTicks(-1)));
        Assert.Equal(new LicenseState(LicenseStatus.Expired, false, T0.AddDays(30), null), Now(state, graceEnd));
    }

    [Fact]
    public void A_full_refund_revokes_the_license_and_a_partial_one_changes_nothing()
    {
        var (state, events) = Bought(Starter, T0.AddDays(30));
        BillingLifecycle.Apply(state, events.Paid(T0, T0.AddDays(30)) with { EventId = "evt_paid" });
        BillingLifecycle.Apply(state, events.Refunded(T0.AddDays(2), "pi_1", full: false));
        Assert.Equal(LicenseStatus.Active, Now(state, T0.AddDays(3)).Status);

        BillingLifecycle.Apply(state, events.Refunded(T0.AddDays(3), "pi_1"));
        Assert.Equal(new LicenseState(LicenseStatus.Revoked, false, T0.AddDays(30), null), Now(state, T0.AddDays(4)));
    }

    [Fact]
    public void An_open_dispute_suspends_the_license_a_won_one_restores_it_and_a_lost_one_revokes_it()
    {
        var (state, events) = Bought(Starter with { Kind = ProductKind.TimePass, DurationDays = 30 }, T0.AddDays(30));
        BillingLifecycle.Apply(state, events.DisputeOpened(T0.AddDays(1), "pi_cs_1", "dp_1"));
        Assert.Equal(LicenseStatus.Suspended, Now(state, T0.AddDays(2)).Status);

        BillingLifecycle.Apply(state, events.DisputeClosed(T0.AddDays(3), "pi_cs_1", won: true, "dp_1"));
        Assert.Equal(LicenseStatus.Active, Now(state, T0.AddDays(4)).Status);

        BillingLifecycle.Apply(state, events.DisputeOpened(T0.AddDays(5), "pi_cs_1", "dp_2"));
        BillingLifecycle.Apply(state, events.DisputeClosed(T0.AddDays(6), "pi_cs_1", won: false, "dp_2"));
        Assert.Equal(LicenseStatus.Revoked, Now(state, T0.AddDays(7)).Status);
    }

    [Fact]
    public void Renewals_keep_the_same_license()
    {
        var (state, events) = Bought(Starter, T0.AddDays(30));
        var first = Assert.Single(state.Licenses).Id;
        BillingLifecycle.Apply(state, events.Paid(T0.AddDays(30), T0.AddDays(60)));
        BillingLifecycle.Apply(state, events.Subscription(T0.AddDays(30), SubscriptionStatus.Active, T0.AddDays(60)));

        Assert.Equal(first, Assert.Single(state.Licenses).Id);
        Assert.Equal(T0.AddDays(60), Now(state, T0.AddDays(31)).ExpiresAt);
    }

    [Fact]
    public void A_second_pass_makes_a_second_license_and_refunding_one_revokes_only_that_one()
    {
        var pass = Starter with { Kind = ProductKind.TimePass, DurationDays = 30 };
        var state = SubjectState.Empty("user_1");
        var events = new Events(pass);
        BillingLifecycle.Apply(state, events.Checkout(T0, "cs_1"));
        BillingLifecycle.Apply(state, events.Checkout(T0.AddDays(1), "cs_2"));
        Assert.Equal(2, state.Licenses.Count);

        BillingLifecycle.Apply(state, events.Refunded(T0.AddDays(2), "pi_cs_1"));
        var entitlement = Assert.Single(state.Entitlements);
        var byId = state.Licenses.ToDictionary(l => l.CheckoutSessionId, l => l.Evaluate(entitlement, T0.AddDays(3)).Status);
        Assert.Equal(LicenseStatus.Revoked, byId["cs_1"]);
        Assert.Equal(LicenseStatus.Active, byId["cs_2"]);
    }

    [Fact]
    public void A_subscription_that_stripe_calls_incomplete_after_the_checkout_leaves_the_license_pending()
    {
        var state = SubjectState.Empty("user_1");
        var events = new Events(Starter);
        BillingLifecycle.Apply(state, events.Checkout(T0));
        BillingLifecycle.Apply(state, events.Subscription(T0.AddSeconds(1), SubscriptionStatus.Incomplete, T0.AddDays(30)));

        Assert.Equal(new LicenseState(LicenseStatus.Pending, false, T0.AddDays(30), null), Now(state, T0.AddMinutes(1)));
    }

    [Fact]
    public void An_exhausted_usage_pack_license_is_expired()
    {
        var (state, _) = Bought(Products.Credits with { IssueLicense = true }, T0);
        Assert.Equal(LicenseStatus.Active, Now(state, T0).Status);
        Assert.True(Usage.UsageLedger.Consume(state, 100, T0.AddMinutes(1)).Consumed);
        Assert.Equal(LicenseStatus.Expired, Now(state, T0.AddMinutes(2)).Status);
    }

    [Fact]
    public void The_email_kept_does_not_depend_on_which_report_came_first()
    {
        var events = new Events(Starter);
        var a = events.Checkout(T0, email: "b@example.com");
        var b = new CheckoutAsyncPaymentSucceeded
        {
            EventId = "evt_async", OccurredAt = T0, Product = Starter, CheckoutSessionId = "cs_1", SubscriptionId = "sub_1", CustomerEmail = "a@example.com",
        };
        var one = SubjectState.Empty("user_1");
        BillingLifecycle.Apply(one, a);
        BillingLifecycle.Apply(one, b);
        var other = SubjectState.Empty("user_1");
        BillingLifecycle.Apply(other, b);
        BillingLifecycle.Apply(other, a);

        Assert.Equal("a@example.com", one.Entitlements[0].Purchases[0].Email);
        Assert.Equal("a@example.com", other.Entitlements[0].Purchases[0].Email);
    }
}

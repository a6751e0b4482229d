using System.Net;
using Licenzy.Sandbox.Account;
using StripeNet = global::Stripe;

namespace Licenzy.Sandbox.Tests;

/// <summary>
/// The sandbox held against Stripe.net as a client, the way a Stripe.net user meets it: a
/// <c>Stripe.StripeClient</c> pointed at its Stripe API, and its webhooks verified and read by
/// <c>EventUtility.ConstructEvent</c> with Stripe.net's default settings.
/// </summary>
public sealed class StripeNetTests(SandboxedLicenzy app) : IClassFixture<SandboxedLicenzy>
{
    [Fact]
    public async Task A_Stripe_net_client_creates_a_checkout_session_and_fetches_it_back()
    {
        var stripe = Client();
        var created = await stripe.V1.Checkout.Sessions.CreateAsync(new StripeNet.Checkout.SessionCreateOptions
        {
            Mode = "subscription",
            LineItems = [new() { Price = SeededPrices.ProMonthly, Quantity = 1 }],
            SuccessUrl = "https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}",
            CustomerEmail = "shopper@example.com",
            Metadata = new() { ["order"] = "1001" },
        }, new StripeNet.RequestOptions { IdempotencyKey = "order-1001" });

        var fetched = await stripe.V1.Checkout.Sessions.GetAsync(created.Id);

        Assert.StartsWith("cs_test_", created.Id);
        Assert.Equal(created.Id, fetched.Id);
        Assert.Equal("open", fetched.Status);
        Assert.Equal("unpaid", fetched.PaymentStatus);
        Assert.Equal(created.Url, fetched.Url);
        Assert.StartsWith(SandboxedLicenzy.Origin + "/sandbox/checkout/", fetched.Url);
        Assert.Equal("1001", fetched.Metadata["order"]);
        Assert.Equal(1900, fetched.AmountTotal);
        Assert.Equal("shopper@example.com", fetched.CustomerEmail);
        Assert.Null(fetched.CustomerDetails);
        Assert.Equal(StripeNet.StripeConfiguration.ApiVersion, fetched.StripeResponse.Headers.GetValues("Stripe-Version").Single());
    }

    [Fact]
    public async Task Fetching_a_session_the_sandbox_does_not_have_is_Stripes_resource_missing()
    {
        var error = await Assert.ThrowsAsync<StripeNet.StripeException>(() => Client().V1.Checkout.Sessions.GetAsync("cs_test_nobody"));

        Assert.Equal(HttpStatusCode.NotFound, error.HttpStatusCode);
        Assert.Equal("resource_missing", error.StripeError.Code);
        Assert.Equal("invalid_request_error", error.StripeError.Type);
    }

    [Fact]
    public async Task A_session_Licenzy_started_and_the_buyer_paid_is_fetched_complete()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var checkout = await tenant.CheckoutAsync("user_1", SandboxTenant.Subscription);
        await tenant.PayAsync(checkout);

        var session = await Client().V1.Checkout.Sessions.GetAsync(checkout.SessionId);

        Assert.Equal("complete", session.Status);
        Assert.Equal("paid", session.PaymentStatus);
        Assert.Equal(checkout.AttemptId, session.ClientReferenceId);
        Assert.StartsWith("sub_", session.SubscriptionId);
        Assert.Null(session.Url);
        Assert.Equal("user_1@example.com", session.CustomerDetails.Email);
    }

    [Fact]
    public async Task Its_webhooks_verify_and_parse_with_Stripe_nets_default_settings()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var (_, bought) = await tenant.BuyAsync("user_1", SandboxTenant.Subscription);
        var failed = await tenant.TriggerAppliedAsync("user_1", "payment_failure");
        var recovered = await tenant.TriggerAppliedAsync("user_1", "recovery");
        var refunded = await tenant.TriggerAppliedAsync("user_1", "refund");
        var (_, pass) = await tenant.BuyAsync("pass_user", SandboxTenant.DayPass);
        var disputed = await tenant.TriggerAppliedAsync("pass_user", "dispute");
        var closed = await tenant.TriggerAppliedAsync("pass_user", "dispute_lost");

        foreach (var delivered in (IEnumerable<Delivered>)[.. bought, .. failed, .. recovered, .. refunded, .. pass, .. disputed, .. closed])
        {
            var stripeEvent = Construct(tenant, delivered);
            Assert.Equal(StripeNet.StripeConfiguration.ApiVersion, stripeEvent.ApiVersion);
            Assert.Equal(delivered.Type, stripeEvent.Type);
            Assert.False(stripeEvent.Livemode);
            Assert.NotNull(stripeEvent.Data.Object);
        }

        var session = Assert.IsType<StripeNet.Checkout.Session>(Construct(tenant, bought[0]).Data.Object);
        Assert.Equal("user_1", session.Metadata["licenzy_subject"]);
        Assert.Equal("paid", session.PaymentStatus);
        Assert.Equal("user_1@example.com", session.CustomerDetails.Email);
        var subscription = Assert.IsType<StripeNet.Subscription>(Construct(tenant, bought[1]).Data.Object);
        Assert.Equal(session.SubscriptionId, subscription.Id);
        Assert.Equal(app.Clock.GetUtcNow().AddDays(30).ToUnixTimeSeconds(),
            new DateTimeOffset(Assert.Single(subscription.Items.Data).CurrentPeriodEnd).ToUnixTimeSeconds());
        var invoice = Assert.IsType<StripeNet.Invoice>(Construct(tenant, bought[2]).Data.Object);
        Assert.Equal(subscription.Id, invoice.Parent.SubscriptionDetails.SubscriptionId);
        Assert.Equal("user_1", invoice.Parent.SubscriptionDetails.Metadata["licenzy_subject"]);
        Assert.StartsWith("pi_", Assert.Single(invoice.Payments.Data).Payment.PaymentIntentId);
        var line = Assert.Single(invoice.Lines.Data);
        Assert.Equal(subscription.Items.Data[0].Id, line.Parent.SubscriptionItemDetails.SubscriptionItem);
        Assert.Equal(subscription.Id, line.Parent.SubscriptionItemDetails.Subscription);
        var charge = Assert.IsType<StripeNet.Charge>(Construct(tenant, refunded[0]).Data.Object);
        Assert.True(charge.Refunded);
        var dispute = Assert.IsType<StripeNet.Dispute>(Construct(tenant, closed[0]).Data.Object);
        Assert.Equal("lost", dispute.Status);
    }

    /// <summary>Stripe.net as a shop would set it up, any test key, over the in-memory server.</summary>
    private StripeNet.StripeClient Client() => new(new StripeNet.StripeClientOptions
    {
        ApiKey = "sk_test_stripe_net_client",
        ApiBase = SandboxedLicenzy.Origin + "/sandbox/stripe",
        HttpClient = new StripeNet.SystemNetHttpClient(new HttpClient(app.Server.CreateHandler()), maxNetworkRetries: 0, enableTelemetry: false),
    });

    /// <summary>With Stripe.net's defaults, but for the clock: the sandbox signs on the test's fake one.</summary>
    private StripeNet.Event Construct(SandboxTenant tenant, Delivered delivered)
    {
        var webhook = tenant.Webhook(delivered);
        return StripeNet.EventUtility.ConstructEvent(webhook.Body, webhook.Signature, SandboxOptions.DefaultWebhookSecret,
            StripeNet.EventUtility.DefaultTimeTolerance, app.Clock.GetUtcNow().ToUnixTimeSeconds());
    }
}

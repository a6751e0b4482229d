using Licenzy.Sandbox.Account;
using Licenzy.Sandbox.Wire;
using Microsoft.Extensions.Options;

namespace Licenzy.Sandbox.Checkout;

/// <summary>What became of an attempt to pay a Checkout Session.</summary>
public abstract record Completion
{
    /// <summary>Paid now; <see cref="Events"/> are what Stripe sends about it, in order.</summary>
    public sealed record Paid(SandboxCheckoutSession Session, IReadOnlyList<SandboxEvent> Events) : Completion;

    public sealed record AlreadyPaid(SandboxCheckoutSession Session) : Completion;

    public sealed record Expired(SandboxCheckoutSession Session) : Completion;

    /// <summary>The session's metadata names no Licenzy tenant, so there is nobody to tell; nothing is paid.</summary>
    public sealed record NoTenant(SandboxCheckoutSession Session) : Completion;

    public sealed record Unknown : Completion;
}

/// <summary>
/// Pays a Checkout Session the way Stripe completes one paid with a working test card, and
/// writes the events Stripe sends about it.
/// </summary>
public sealed class CheckoutCompletion(SandboxAccount account, TimeProvider clock, IOptions<SandboxOptions> options)
{
    private readonly StripeApiVersion _version = options.Value.EventApiVersion;

    /// <param name="email">The buyer's email, as the checkout page collected it.</param>
    public Completion Complete(string sessionId, string email) => account.Transact<Completion>(data =>
    {
        if (!data.Sessions.TryGetValue(sessionId, out var session)) return new Completion.Unknown();
        var now = clock.GetUtcNow();
        var status = session.StatusAt(now);
        if (status == SessionStatuses.Expired) return new Completion.Expired(session);
        if (status == SessionStatuses.Complete) return new Completion.AlreadyPaid(session);

        if (session.Owner is not { } owner) return new Completion.NoTenant(session);
        // The subscription or payment intent is owned as its own metadata says, as Licenzy reads it.
        var objectOwner = Owner.From(session.Request.ObjectMetadata) ?? owner;
        now = data.StepTime(objectOwner.TenantId, objectOwner.SubjectRef, now);
        data.RecordStep(objectOwner.TenantId, objectOwner.SubjectRef, now);
        var (paid, events) = session.Request.Mode == CheckoutModes.Subscription
            ? Subscribe(data, session with { CustomerEmail = email }, objectOwner, now)
            : PayOnce(data, session with { CustomerEmail = email }, objectOwner, now);
        data.Sessions[session.Id] = paid = paid with { Events = events };
        return new Completion.Paid(paid, events);
    });

    private (SandboxCheckoutSession, IReadOnlyList<SandboxEvent>) Subscribe(
        AccountData data, SandboxCheckoutSession session, Owner owner, DateTimeOffset now)
    {
        var subscription = new SandboxSubscription
        {
            Id = StripeIds.New("sub"), Sequence = data.NextSequence(), Owner = owner, CustomerId = data.CustomerFor(owner),
            ItemId = StripeIds.New("si"), Price = session.Request.Price, Quantity = session.Request.Quantity, Metadata = session.Request.ObjectMetadata,
            Status = SubscriptionStatuses.Active, Created = now, PeriodStart = now, PeriodEnd = now + StripeBilling.BillingPeriod,
            LatestInvoiceId = "",
        };
        var invoice = StripeBilling.Invoice(data, subscription, "subscription_create", now, declined: false, now);
        subscription = subscription with { LatestInvoiceId = invoice.Id };
        data.Subscriptions[subscription.Id] = subscription;

        var paid = session with
        {
            Status = SessionStatuses.Complete, PaymentStatus = "paid", CustomerId = subscription.CustomerId,
            SubscriptionId = subscription.Id, InvoiceId = invoice.Id,
        };
        return (paid,
        [
            StripeEventJson.Create("checkout.session.completed", StripeObjectJson.CheckoutSession(paid, now), now, _version),
            StripeEventJson.Create("customer.subscription.created", StripeObjectJson.Subscription(subscription, _version), now, _version),
            StripeEventJson.Create("invoice.paid", StripeObjectJson.Invoice(invoice, _version), now, _version),
        ]);
    }

    private (SandboxCheckoutSession, IReadOnlyList<SandboxEvent>) PayOnce(
        AccountData data, SandboxCheckoutSession session, Owner owner, DateTimeOffset now)
    {
        // A one-time Checkout makes no customer unless asked to (customer_creation: if_required).
        var intent = StripeBilling.NewPaymentIntent(data, session.AmountTotal, session.Request.Price.Currency, customerId: null, invoiceId: null,
            session.Request.ObjectMetadata, now);
        StripeBilling.Pay(data, owner, intent, now);
        var paid = session with { Status = SessionStatuses.Complete, PaymentStatus = "paid", PaymentIntentId = intent.Id };
        return (paid, [StripeEventJson.Create("checkout.session.completed", StripeObjectJson.CheckoutSession(paid, now), now, _version)]);
    }
}

using Licenzy.Api.Setup;
using Licenzy.Api.Subjects;
using Licenzy.Domain;
using Licenzy.Domain.Billing;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Products;
using Licenzy.Stripe;

namespace Licenzy.Api.Billing;

/// <summary>What a received Stripe event means for Licenzy.</summary>
public abstract record Translation
{
    /// <summary>An event for one subject's lifecycle.</summary>
    public sealed record ForSubject(SubjectKey Subject, BillingEvent Event) : Translation;

    /// <summary>A type Licenzy does not act on, or a purchase it did not start: acknowledged and left alone.</summary>
    public sealed record Ignored(string Why) : Translation;

    /// <summary>An event Licenzy should act on but cannot: kept as a dead letter with the reason.</summary>
    public sealed record Unattributable(string Reason) : Translation;

    /// <summary>Not attributable yet, because the event that says whose it is may still be on its way: retried.</summary>
    public sealed record NotYet(string Reason) : Translation;
}

/// <summary>
/// Turns Stripe events into Licenzy billing events: finds the subject and product from the
/// metadata Licenzy set on the Checkout Session (and so on the subscription and payment intent),
/// or for charges and disputes from the <see cref="PaymentIndex"/>.
/// </summary>
public sealed class StripeEventTranslator(ProductCatalog catalog, PaymentIndex payments)
{
    public async Task<Translation> TranslateAsync(ReceivedBillingEvent received, CancellationToken ct)
    {
        var stripeEvent = StripeEvent.Parse(received.Payload);
        return stripeEvent.Type switch
        {
            StripeEventTypes.CheckoutSessionCompleted or StripeEventTypes.AsyncPaymentSucceeded or StripeEventTypes.AsyncPaymentFailed
                => await CheckoutAsync(received, stripeEvent, ct),
            StripeEventTypes.SubscriptionCreated or StripeEventTypes.SubscriptionUpdated or StripeEventTypes.SubscriptionDeleted
                => await SubscriptionAsync(received, stripeEvent, ct),
            StripeEventTypes.InvoicePaid or StripeEventTypes.InvoicePaymentFailed => await InvoiceAsync(received, stripeEvent, ct),
            StripeEventTypes.ChargeRefunded => await RefundAsync(received, stripeEvent, ct),
            StripeEventTypes.ChargeDisputeCreated or StripeEventTypes.ChargeDisputeClosed => await DisputeAsync(received, stripeEvent, ct),
            _ => new Translation.Ignored($"Licenzy does not act on {stripeEvent.Type}"),
        };
    }

    private async Task<Translation> CheckoutAsync(ReceivedBillingEvent received, StripeEvent stripeEvent, CancellationToken ct)
    {
        var session = StripeCheckoutSessionObject.FromJson(stripeEvent.DataObject);
        var (owner, product, problem) = await AttributeAsync(received, session.Metadata, ct);
        if (problem is not null) return problem;
        if (session.PaymentIntentId is { } paymentIntent)
            await payments.RecordAsync(received.TenantId, received.Mode, paymentIntent, new PaymentOwner(owner!, product!.Code, session.SubscriptionId), ct);

        BillingEvent billingEvent = stripeEvent.Type switch
        {
            StripeEventTypes.CheckoutSessionCompleted => new CheckoutCompleted
            {
                EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product!, CheckoutSessionId = session.Id,
                SubscriptionId = session.SubscriptionId, PaymentIntentId = session.PaymentIntentId, CustomerEmail = session.CustomerEmail,
                Payment = session.PaymentStatus switch
                {
                    "paid" => CheckoutPayment.Paid,
                    "no_payment_required" => CheckoutPayment.NoPaymentRequired,
                    _ => CheckoutPayment.Unpaid,
                },
            },
            StripeEventTypes.AsyncPaymentSucceeded => new CheckoutAsyncPaymentSucceeded
            {
                EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product!, CheckoutSessionId = session.Id,
                SubscriptionId = session.SubscriptionId, PaymentIntentId = session.PaymentIntentId, CustomerEmail = session.CustomerEmail,
            },
            _ => new CheckoutAsyncPaymentFailed
            {
                EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product!, CheckoutSessionId = session.Id,
                SubscriptionId = session.SubscriptionId, PaymentIntentId = session.PaymentIntentId, CustomerEmail = session.CustomerEmail,
            },
        };
        if (product!.Kind == ProductKind.Subscription && session.SubscriptionId is null && session.PaymentStatus == "paid")
            return new Translation.Unattributable("a paid subscription checkout without a subscription id");
        return For(received, owner!, billingEvent);
    }

    private async Task<Translation> SubscriptionAsync(ReceivedBillingEvent received, StripeEvent stripeEvent, CancellationToken ct)
    {
        var subscription = StripeSubscriptionObject.FromJson(stripeEvent.DataObject);
        var (owner, product, problem) = await AttributeAsync(received, subscription.Metadata, ct);
        if (problem is not null) return problem;
        if (product!.Kind != ProductKind.Subscription) return new Translation.Unattributable($"the product '{product.Code}' is not a subscription");

        if (stripeEvent.Type == StripeEventTypes.SubscriptionDeleted)
        {
            return For(received, owner!, new SubscriptionDeleted
            {
                EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product, SubscriptionId = subscription.Id,
                EndedAt = subscription.EndedAt ?? subscription.CanceledAt, PeriodEnd = subscription.CurrentPeriodEnd,
            });
        }
        if (StatusOf(subscription.Status) is not { } status)
            return new Translation.Unattributable($"unknown subscription status '{subscription.Status}'");
        return For(received, owner!, new SubscriptionChanged
        {
            EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product, SubscriptionId = subscription.Id,
            Status = status, PeriodEnd = subscription.CurrentPeriodEnd, EndedAt = subscription.EndedAt ?? subscription.CanceledAt,
        });
    }

    private async Task<Translation> InvoiceAsync(ReceivedBillingEvent received, StripeEvent stripeEvent, CancellationToken ct)
    {
        var invoice = StripeInvoiceObject.FromJson(stripeEvent.DataObject);
        if (invoice.SubscriptionId is null) return new Translation.Ignored("an invoice that is not for a subscription");
        var (owner, product, problem) = await AttributeAsync(received, invoice.SubscriptionMetadata, ct);
        if (problem is not null) return problem;
        if (invoice.PaymentIntentId is { } paymentIntent)
            await payments.RecordAsync(received.TenantId, received.Mode, paymentIntent, new PaymentOwner(owner!, product!.Code, invoice.SubscriptionId), ct);

        return For(received, owner!, stripeEvent.Type == StripeEventTypes.InvoicePaid
            ? new InvoicePaid
            {
                EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product!, SubscriptionId = invoice.SubscriptionId,
                PeriodEnd = invoice.PeriodEnd,
            }
            : new InvoicePaymentFailed
            {
                EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product!, SubscriptionId = invoice.SubscriptionId,
            });
    }

    private async Task<Translation> RefundAsync(ReceivedBillingEvent received, StripeEvent stripeEvent, CancellationToken ct)
    {
        var charge = StripeChargeObject.FromJson(stripeEvent.DataObject);
        if (charge.PaymentIntentId is null) return new Translation.Unattributable("a charge without a payment intent");
        var fully = charge.Refunded || (charge.Amount > 0 && charge.AmountRefunded >= charge.Amount);
        var (owner, product, problem) = await OwnerOfPaymentAsync(received, charge.PaymentIntentId, charge.Metadata, ct);
        if (problem is not null) return problem;
        return For(received, owner!.SubjectRef, new ChargeRefunded
        {
            EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product!, SubscriptionId = owner.SubscriptionId,
            PaymentIntentId = charge.PaymentIntentId, FullyRefunded = fully,
        });
    }

    private async Task<Translation> DisputeAsync(ReceivedBillingEvent received, StripeEvent stripeEvent, CancellationToken ct)
    {
        var dispute = StripeDisputeObject.FromJson(stripeEvent.DataObject);
        if (dispute.PaymentIntentId is null) return new Translation.Unattributable("a dispute without a payment intent");
        var (owner, product, problem) = await OwnerOfPaymentAsync(received, dispute.PaymentIntentId, Metadata: null, ct);
        if (problem is not null) return problem;

        if (stripeEvent.Type == StripeEventTypes.ChargeDisputeCreated)
        {
            return For(received, owner!.SubjectRef, new DisputeOpened
            {
                EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product!, SubscriptionId = owner.SubscriptionId,
                PaymentIntentId = dispute.PaymentIntentId, DisputeId = dispute.Id,
            });
        }
        if (dispute.Status is not ("won" or "lost")) return new Translation.Ignored($"a dispute closed as '{dispute.Status}'");
        return For(received, owner!.SubjectRef, new DisputeClosed
        {
            EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product!, SubscriptionId = owner.SubscriptionId,
            PaymentIntentId = dispute.PaymentIntentId, DisputeId = dispute.Id, Won = dispute.Status == "won",
        });
    }

    private static Translation For(ReceivedBillingEvent received, string subjectRef, BillingEvent billingEvent) =>
        new Translation.ForSubject(new SubjectKey(received.TenantId, received.Mode, subjectRef), billingEvent);

    /// <summary>The owner of a payment: from the index, else from Licenzy metadata on the object, else not known yet.</summary>
    private async Task<(PaymentOwner? Owner, Product? Product, Translation? Problem)> OwnerOfPaymentAsync(
        ReceivedBillingEvent received, string paymentIntentId, IReadOnlyDictionary<string, string>? Metadata, CancellationToken ct)
    {
        var owner = await payments.FindAsync(received.TenantId, received.Mode, paymentIntentId, ct);
        if (owner is null && Metadata is not null && Metadata.ContainsKey(CheckoutMetadata.Subject))
        {
            var (subject, fromMetadata, problem) = await AttributeAsync(received, Metadata, ct);
            if (problem is not null) return (null, null, problem);
            owner = new PaymentOwner(subject!, fromMetadata!.Code, null);
        }
        if (owner is null)
            return (null, null, new Translation.NotYet($"no purchase is known yet for payment {paymentIntentId}"));
        var product = await catalog.FindAsync(received.TenantId, received.Mode, owner.ProductCode, ct);
        return product is null
            ? (null, null, new Translation.Unattributable($"the product '{owner.ProductCode}' of payment {paymentIntentId} is no longer defined"))
            : (owner, product, null);
    }

    /// <summary>Reads subject and product from Licenzy's metadata, refusing metadata of another tenant or mode.</summary>
    private async Task<(string? Subject, Product? Product, Translation? Problem)> AttributeAsync(
        ReceivedBillingEvent received, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        if (!metadata.Keys.Any(CheckoutMetadata.IsLicenzys))
            return (null, null, new Translation.Ignored("no Licenzy metadata: a purchase Licenzy did not start"));
        if (!metadata.TryGetValue(CheckoutMetadata.Subject, out var subject) || !metadata.TryGetValue(CheckoutMetadata.Product, out var code))
            return (null, null, new Translation.Unattributable("incomplete Licenzy metadata: licenzy_subject and licenzy_product are both needed"));
        if (metadata.TryGetValue(CheckoutMetadata.Tenant, out var tenant) && tenant != received.TenantId)
            return (null, null, new Translation.Unattributable("the metadata names another tenant"));
        if (metadata.TryGetValue(CheckoutMetadata.Mode, out var mode) && mode != received.Mode.ToWire())
            return (null, null, new Translation.Unattributable("the metadata names another mode"));
        if (!Domain.Subjects.SubjectRef.IsValid(subject))
            return (null, null, new Translation.Unattributable("the subject in the metadata is not a valid subject_ref"));
        var product = await catalog.FindAsync(received.TenantId, received.Mode, code, ct);
        return product is null
            ? (null, null, new Translation.Unattributable($"the product '{code}' in the metadata is not defined in this mode"))
            : (subject, product, null);
    }

    private static SubscriptionStatus? StatusOf(string? status) => status switch
    {
        "active" => SubscriptionStatus.Active,
        "trialing" => SubscriptionStatus.Trialing,
        "past_due" => SubscriptionStatus.PastDue,
        "unpaid" => SubscriptionStatus.Unpaid,
        "paused" => SubscriptionStatus.Paused,
        "incomplete" => SubscriptionStatus.Incomplete,
        "incomplete_expired" => SubscriptionStatus.IncompleteExpired,
        "canceled" => SubscriptionStatus.Canceled,
        _ => null,
    };
}

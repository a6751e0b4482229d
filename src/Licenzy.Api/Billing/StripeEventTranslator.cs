using System.Text;
using Licenzy.Api.Setup;
using Licenzy.Api.Subjects;
using Licenzy.Domain;
using Licenzy.Domain.Billing;
using Licenzy.Stripe;

namespace Licenzy.Api.Billing;

/// <summary>What a received Stripe event means for Licenzy.</summary>
public abstract record Translation
{
    /// <summary>An event for one subject's lifecycle.</summary>
    public sealed record ForSubject(SubjectKey Subject, BillingEvent Event) : Translation;

    /// <summary>A type Licenzy does not act on: acknowledged and left alone.</summary>
    public sealed record Ignored(string Why) : Translation;

    /// <summary>An event Licenzy should act on but cannot: kept as a dead letter with the reason.</summary>
    public sealed record Unattributable(string Reason) : Translation;
}

/// <summary>Turns Stripe events into Licenzy billing events, finding the subject and product from the metadata Licenzy set.</summary>
public sealed class StripeEventTranslator(ProductCatalog catalog)
{
    public async Task<Translation> TranslateAsync(ReceivedBillingEvent received, CancellationToken ct)
    {
        var stripeEvent = StripeEvent.Parse(Encoding.UTF8.GetBytes(received.Payload));
        return stripeEvent.Type switch
        {
            StripeEventTypes.CheckoutSessionCompleted or StripeEventTypes.AsyncPaymentSucceeded
                or StripeEventTypes.AsyncPaymentFailed => await CheckoutAsync(received, stripeEvent, ct),
            _ => new Translation.Ignored($"Licenzy does not act on {stripeEvent.Type}"),
        };
    }

    private async Task<Translation> CheckoutAsync(ReceivedBillingEvent received, StripeEvent stripeEvent, CancellationToken ct)
    {
        var session = StripeCheckoutSessionObject.FromJson(stripeEvent.DataObject);
        var (subject, productCode, problem) = Attribute(received, session.Metadata);
        if (problem is not null) return new Translation.Unattributable(problem);
        var product = await catalog.FindAsync(received.TenantId, received.Mode, productCode!, ct);
        if (product is null) return new Translation.Unattributable($"the product '{productCode}' in the metadata is not defined in this mode");

        BillingEvent billingEvent = stripeEvent.Type switch
        {
            StripeEventTypes.CheckoutSessionCompleted => new CheckoutCompleted
            {
                EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product, CheckoutSessionId = session.Id,
                SubscriptionId = session.SubscriptionId, PaymentIntentId = session.PaymentIntentId,
                Payment = session.PaymentStatus switch
                {
                    "paid" => CheckoutPayment.Paid,
                    "no_payment_required" => CheckoutPayment.NoPaymentRequired,
                    _ => CheckoutPayment.Unpaid,
                },
            },
            StripeEventTypes.AsyncPaymentSucceeded => new CheckoutAsyncPaymentSucceeded
            {
                EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product, CheckoutSessionId = session.Id,
                SubscriptionId = session.SubscriptionId, PaymentIntentId = session.PaymentIntentId,
            },
            _ => new CheckoutAsyncPaymentFailed
            {
                EventId = stripeEvent.Id, OccurredAt = stripeEvent.Created, Product = product, CheckoutSessionId = session.Id,
                SubscriptionId = session.SubscriptionId, PaymentIntentId = session.PaymentIntentId,
            },
        };
        return new Translation.ForSubject(new SubjectKey(received.TenantId, received.Mode, subject!), billingEvent);
    }

    /// <summary>Reads subject and product from Licenzy's metadata, refusing metadata of another tenant or mode.</summary>
    private static (string? Subject, string? Product, string? Problem) Attribute(ReceivedBillingEvent received, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(CheckoutMetadata.Subject, out var subject) || !metadata.TryGetValue(CheckoutMetadata.Product, out var product))
            return (null, null, "no Licenzy metadata (licenzy_subject, licenzy_product): not a checkout Licenzy created");
        if (metadata.TryGetValue(CheckoutMetadata.Tenant, out var tenant) && tenant != received.TenantId)
            return (null, null, "the metadata names another tenant");
        if (metadata.TryGetValue(CheckoutMetadata.Mode, out var mode) && mode != received.Mode.ToWire())
            return (null, null, "the metadata names another mode");
        if (!Domain.Subjects.SubjectRef.IsValid(subject)) return (null, null, "the subject in the metadata is not a valid subject_ref");
        return (subject, product, null);
    }
}

using System.Collections.ObjectModel;
using System.Text.Json.Nodes;

namespace Licenzy.Sandbox.Account;

/// <summary>
/// What Stripe does when money moves, for the sandbox's test card that always works unless told
/// otherwise: payment intents, their charges, and the invoices of subscriptions.
/// </summary>
public static class StripeBilling
{
    /// <summary>One billing period of a sandbox subscription, whatever the price's interval says.</summary>
    public static readonly TimeSpan BillingPeriod = TimeSpan.FromDays(30);

    public static readonly IReadOnlyDictionary<string, string> NoMetadata = ReadOnlyDictionary<string, string>.Empty;

    /// <summary>A new payment intent waiting for its payment.</summary>
    public static SandboxPaymentIntent NewPaymentIntent(
        AccountData data, long amount, string currency, string? customerId, string? invoiceId,
        IReadOnlyDictionary<string, string> metadata, DateTimeOffset now)
    {
        var intent = new SandboxPaymentIntent
        {
            Id = StripeIds.New("pi"), Amount = amount, Currency = currency, CustomerId = customerId, InvoiceId = invoiceId,
            Metadata = metadata, Status = "requires_payment_method", Created = now,
        };
        data.PaymentIntents[intent.Id] = intent;
        return intent;
    }

    /// <summary>The payment intent succeeds: a charge for its whole amount.</summary>
    public static SandboxCharge Pay(AccountData data, Owner owner, SandboxPaymentIntent intent, DateTimeOffset now)
    {
        var charge = new SandboxCharge
        {
            Id = StripeIds.New("ch"), Sequence = data.NextSequence(), Owner = owner, PaymentIntentId = intent.Id, InvoiceId = intent.InvoiceId,
            CustomerId = intent.CustomerId, Amount = intent.Amount, Currency = intent.Currency, Created = now,
        };
        data.Charges[charge.Id] = charge;
        data.PaymentIntents[intent.Id] = intent with { Status = "succeeded", LatestChargeId = charge.Id };
        return charge;
    }

    /// <summary>
    /// An invoice of <paramref name="subscription"/> for the period from <paramref name="periodStart"/>,
    /// finalized and charged at once: paid, or (when <paramref name="declined"/>) left open with its
    /// payment intent waiting for another card.
    /// </summary>
    public static SandboxInvoice Invoice(
        AccountData data, SandboxSubscription subscription, string billingReason, DateTimeOffset periodStart, bool declined, DateTimeOffset now)
    {
        var invoiceId = StripeIds.New("in");
        var intent = NewPaymentIntent(data, subscription.Amount, subscription.Price.Currency, subscription.CustomerId, invoiceId, NoMetadata, now);
        var invoice = new SandboxInvoice
        {
            Id = invoiceId, SubscriptionId = subscription.Id, SubscriptionItemId = subscription.ItemId, CustomerId = subscription.CustomerId,
            SubscriptionMetadata = subscription.Metadata, BillingReason = billingReason, Price = subscription.Price,
            Quantity = subscription.Quantity, PeriodStart = periodStart, PeriodEnd = periodStart + BillingPeriod,
            PaymentIntentId = intent.Id, Created = now, AttemptCount = 1,
        };
        if (!declined)
        {
            var charge = Pay(data, subscription.Owner, intent, now);
            invoice = invoice with { Status = "paid", PaidAt = now, ChargeId = charge.Id };
        }

        data.Invoices[invoice.Id] = invoice;
        return invoice;
    }

    /// <summary>Another attempt at an open invoice, which succeeds.</summary>
    public static SandboxInvoice PayOpenInvoice(AccountData data, SandboxSubscription subscription, SandboxInvoice invoice, DateTimeOffset now)
    {
        var charge = Pay(data, subscription.Owner, data.PaymentIntents[invoice.PaymentIntentId], now);
        var paid = invoice with { Status = "paid", PaidAt = now, ChargeId = charge.Id, AttemptCount = invoice.AttemptCount + 1 };
        data.Invoices[paid.Id] = paid;
        return paid;
    }

    /// <summary>
    /// Stripe's <c>previous_attributes</c>: the old value of every top-level field that changed
    /// from <paramref name="before"/> to <paramref name="after"/>.
    /// </summary>
    public static JsonObject PreviousAttributes(JsonObject before, JsonObject after)
    {
        var previous = new JsonObject();
        foreach (var (name, value) in before)
        {
            if (!JsonNode.DeepEquals(value, after[name])) previous[name] = value?.DeepClone();
        }

        return previous;
    }
}

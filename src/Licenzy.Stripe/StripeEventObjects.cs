using System.Text.Json;
using StripeNet = global::Stripe;

namespace Licenzy.Stripe;

// Readers for the objects Licenzy's events carry. Each reads Stripe.net's typed object
// (StripeObjects.Read), and the JSON itself only for what an older API version keeps where
// Stripe.net's types have no field: before 2025-03-31 a subscription's period sat on the
// subscription, not on its items; an invoice named its subscription, its subscription's metadata,
// its payment intent and its charge at the top level; a charge named its invoice.
// Created is optional throughout: Licenzy orders by the event's time, and some payloads omit it.

/// <summary>A <c>checkout.session</c> from <c>checkout.session.*</c> events.</summary>
public sealed record StripeCheckoutSessionObject
{
    public required string Id { get; init; }
    public string? Mode { get; init; }
    public string? Status { get; init; }
    public string? PaymentStatus { get; init; }
    public string? ClientReferenceId { get; init; }
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = StripeJson.NoMetadata;
    public string? SubscriptionId { get; init; }
    public string? PaymentIntentId { get; init; }
    public string? CustomerId { get; init; }

    /// <summary>The buyer's email as Checkout collected it, else the one the session was created with.</summary>
    public string? CustomerEmail { get; init; }

    public DateTimeOffset? Created { get; init; }
    public bool Livemode { get; init; }

    public static StripeCheckoutSessionObject FromJson(JsonElement obj)
    {
        var session = StripeObjects.Read<StripeNet.Checkout.Session>(obj, "checkout.session");
        return new StripeCheckoutSessionObject
        {
            Id = session.Id,
            Mode = session.Mode,
            Status = session.Status,
            PaymentStatus = session.PaymentStatus,
            ClientReferenceId = session.ClientReferenceId,
            Metadata = StripeJson.Metadata(session.Metadata),
            SubscriptionId = session.SubscriptionId,
            PaymentIntentId = session.PaymentIntentId,
            CustomerId = session.CustomerId,
            CustomerEmail = session.CustomerDetails?.Email ?? session.CustomerEmail,
            Created = StripeJson.Time(session.Created),
            Livemode = session.Livemode,
        };
    }
}

/// <summary>A <c>subscription</c> from <c>customer.subscription.*</c> events.</summary>
public sealed record StripeSubscriptionObject
{
    public required string Id { get; init; }
    public string? Status { get; init; }
    public string? CustomerId { get; init; }
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = StripeJson.NoMetadata;
    public DateTimeOffset? Created { get; init; }
    public DateTimeOffset? CurrentPeriodStart { get; init; }
    public DateTimeOffset? CurrentPeriodEnd { get; init; }
    public bool CancelAtPeriodEnd { get; init; }
    public DateTimeOffset? CanceledAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public DateTimeOffset? TrialEnd { get; init; }
    public IReadOnlyList<string> PriceIds { get; init; } = [];

    public static StripeSubscriptionObject FromJson(JsonElement obj)
    {
        var subscription = StripeObjects.Read<StripeNet.Subscription>(obj, "subscription");
        var items = subscription.Items?.Data?.OfType<StripeNet.SubscriptionItem>().ToList() ?? [];

        // Since 2025-03-31 the period is on each item; the subscription's period is then the one of
        // the item that runs longest. Before, it was on the subscription itself.
        var longestItem = items
            .Where(item => StripeJson.Time(item.CurrentPeriodEnd) is not null)
            .MaxBy(item => item.CurrentPeriodEnd);

        return new StripeSubscriptionObject
        {
            Id = subscription.Id,
            Status = subscription.Status,
            CustomerId = subscription.CustomerId,
            Metadata = StripeJson.Metadata(subscription.Metadata),
            Created = StripeJson.Time(subscription.Created),
            CurrentPeriodStart = StripeJson.Time(longestItem?.CurrentPeriodStart) ?? obj.ReadTime("current_period_start"),
            CurrentPeriodEnd = StripeJson.Time(longestItem?.CurrentPeriodEnd) ?? obj.ReadTime("current_period_end"),
            CancelAtPeriodEnd = subscription.CancelAtPeriodEnd,
            CanceledAt = StripeJson.Time(subscription.CanceledAt),
            EndedAt = StripeJson.Time(subscription.EndedAt),
            TrialEnd = StripeJson.Time(subscription.TrialEnd),
            // Items of old API versions name a plan instead of a price; plan ids are price ids.
            PriceIds = items
                .Select(item => item.Price?.Id ?? item.Plan?.Id)
                .OfType<string>()
                .Distinct(StringComparer.Ordinal)
                .ToList(),
        };
    }
}

/// <summary>An <c>invoice</c> from <c>invoice.*</c> events.</summary>
public sealed record StripeInvoiceObject
{
    public required string Id { get; init; }
    public string? Status { get; init; }
    public string? SubscriptionId { get; init; }

    /// <summary>The subscription's metadata as of the invoice, which is how an invoice is tied back.</summary>
    public IReadOnlyDictionary<string, string> SubscriptionMetadata { get; init; } = StripeJson.NoMetadata;

    /// <summary>The end of the period the invoice pays for.</summary>
    public DateTimeOffset? PeriodEnd { get; init; }

    public DateTimeOffset? Created { get; init; }
    public string? BillingReason { get; init; }
    public long AmountPaid { get; init; }
    public string? PaymentIntentId { get; init; }
    public string? ChargeId { get; init; }

    public static StripeInvoiceObject FromJson(JsonElement obj)
    {
        var invoice = StripeObjects.Read<StripeNet.Invoice>(obj, "invoice");
        // Since 2025-03-31 the subscription sits under parent.subscription_details; before, at the top.
        var parentDetails = invoice.Parent?.SubscriptionDetails;
        var parentMetadata = StripeJson.Metadata(parentDetails?.Metadata);

        return new StripeInvoiceObject
        {
            Id = invoice.Id,
            Status = invoice.Status,
            SubscriptionId = parentDetails?.SubscriptionId ?? obj.ReadId("subscription"),
            SubscriptionMetadata = parentMetadata.Count > 0
                ? parentMetadata
                : obj.ReadObject("subscription_details")?.ReadMetadata() ?? StripeJson.NoMetadata,
            // A renewal invoice's own period_end closes the period just ended; its lines carry
            // the new period, which is the one access should follow.
            PeriodEnd = invoice.Lines?.Data?.Select(line => StripeJson.Time(line?.Period?.End)).Max()
                ?? StripeJson.Time(invoice.PeriodEnd),
            Created = StripeJson.Time(invoice.Created),
            BillingReason = invoice.BillingReason,
            AmountPaid = invoice.AmountPaid,
            // Since 2025-03-31 an invoice lists its payments instead of naming one payment intent.
            PaymentIntentId = invoice.Payments?.Data?.Select(payment => payment?.Payment?.PaymentIntentId).FirstOrDefault(id => id is not null)
                ?? obj.ReadId("payment_intent"),
            ChargeId = obj.ReadId("charge"),
        };
    }
}

/// <summary>A <c>charge</c> from <c>charge.*</c> events.</summary>
public sealed record StripeChargeObject
{
    public required string Id { get; init; }
    public string? PaymentIntentId { get; init; }
    public string? InvoiceId { get; init; }
    public long Amount { get; init; }
    public long AmountRefunded { get; init; }

    /// <summary>True only once the whole amount is refunded.</summary>
    public bool Refunded { get; init; }

    public IReadOnlyDictionary<string, string> Metadata { get; init; } = StripeJson.NoMetadata;
    public DateTimeOffset? Created { get; init; }

    public static StripeChargeObject FromJson(JsonElement obj)
    {
        var charge = StripeObjects.Read<StripeNet.Charge>(obj, "charge");
        return new StripeChargeObject
        {
            Id = charge.Id,
            PaymentIntentId = charge.PaymentIntentId,
            // Charges stopped naming their invoice on 2025-03-31.
            InvoiceId = obj.ReadId("invoice"),
            Amount = charge.Amount,
            AmountRefunded = charge.AmountRefunded,
            Refunded = charge.Refunded,
            Metadata = StripeJson.Metadata(charge.Metadata),
            Created = StripeJson.Time(charge.Created),
        };
    }
}

/// <summary>A <c>dispute</c> from <c>charge.dispute.*</c> events.</summary>
public sealed record StripeDisputeObject
{
    public required string Id { get; init; }
    public string? ChargeId { get; init; }
    public string? PaymentIntentId { get; init; }

    /// <summary>e.g. <c>needs_response</c>, <c>won</c>, <c>lost</c>.</summary>
    public string? Status { get; init; }

    public DateTimeOffset? Created { get; init; }

    public static StripeDisputeObject FromJson(JsonElement obj)
    {
        var dispute = StripeObjects.Read<StripeNet.Dispute>(obj, "dispute");
        return new StripeDisputeObject
        {
            Id = dispute.Id,
            ChargeId = dispute.ChargeId,
            PaymentIntentId = dispute.PaymentIntentId,
            Status = dispute.Status,
            Created = StripeJson.Time(dispute.Created),
        };
    }
}

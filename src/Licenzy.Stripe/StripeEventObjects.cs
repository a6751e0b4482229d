using System.Text.Json;

namespace Licenzy.Stripe;

// Readers for the objects Licenzy's events carry. Each reads both API shapes Stripe sends
// (before and after 2025-03-31) and accepts expandable fields as an id or an expanded object.
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
    public DateTimeOffset? Created { get; init; }
    public bool Livemode { get; init; }

    public static StripeCheckoutSessionObject FromJson(JsonElement obj) => new()
    {
        Id = obj.RequireId("checkout.session"),
        Mode = obj.ReadString("mode"),
        Status = obj.ReadString("status"),
        PaymentStatus = obj.ReadString("payment_status"),
        ClientReferenceId = obj.ReadString("client_reference_id"),
        Metadata = obj.ReadMetadata(),
        SubscriptionId = obj.ReadId("subscription"),
        PaymentIntentId = obj.ReadId("payment_intent"),
        CustomerId = obj.ReadId("customer"),
        Created = obj.ReadTime("created"),
        Livemode = obj.ReadBool("livemode"),
    };
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
        var id = obj.RequireId("subscription");
        var items = obj.ReadList("items").ToList();

        // Newer API versions keep the period on each item; the subscription's period is then
        // the one of the item that runs longest.
        var longestItem = items
            .Where(item => item.ReadTime("current_period_end") is not null)
            .OrderByDescending(item => item.ReadTime("current_period_end"))
            .Cast<JsonElement?>()
            .FirstOrDefault();

        return new StripeSubscriptionObject
        {
            Id = id,
            Status = obj.ReadString("status"),
            CustomerId = obj.ReadId("customer"),
            Metadata = obj.ReadMetadata(),
            Created = obj.ReadTime("created"),
            CurrentPeriodStart = obj.ReadTime("current_period_start") ?? longestItem?.ReadTime("current_period_start"),
            CurrentPeriodEnd = obj.ReadTime("current_period_end") ?? longestItem?.ReadTime("current_period_end"),
            CancelAtPeriodEnd = obj.ReadBool("cancel_at_period_end"),
            CanceledAt = obj.ReadTime("canceled_at"),
            EndedAt = obj.ReadTime("ended_at"),
            TrialEnd = obj.ReadTime("trial_end"),
            // Items of old API versions name a plan instead of a price; plan ids are price ids.
            PriceIds = items
                .Select(item => item.ReadId("price") ?? item.ReadId("plan"))
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
        var id = obj.RequireId("invoice");
        // Since 2025-03-31 the subscription sits under parent.subscription_details.
        var parentDetails = obj.ReadObject("parent")?.ReadObject("subscription_details");
        var parentMetadata = parentDetails?.ReadMetadata() ?? StripeJson.NoMetadata;

        return new StripeInvoiceObject
        {
            Id = id,
            Status = obj.ReadString("status"),
            SubscriptionId = obj.ReadId("subscription") ?? parentDetails?.ReadId("subscription"),
            SubscriptionMetadata = parentMetadata.Count > 0
                ? parentMetadata
                : obj.ReadObject("subscription_details")?.ReadMetadata() ?? StripeJson.NoMetadata,
            // A renewal invoice's own period_end closes the period just ended; its lines carry
            // the new period, which is the one access should follow.
            PeriodEnd = obj.ReadList("lines")
                .Select(line => line.ReadObject("period")?.ReadTime("end"))
                .Max() ?? obj.ReadTime("period_end"),
            Created = obj.ReadTime("created"),
            BillingReason = obj.ReadString("billing_reason"),
            AmountPaid = obj.ReadLong("amount_paid") ?? 0,
            // Since 2025-03-31 an invoice lists its payments instead of naming one payment intent.
            PaymentIntentId = obj.ReadId("payment_intent")
                ?? obj.ReadList("payments").Select(p => p.ReadObject("payment")?.ReadId("payment_intent")).FirstOrDefault(pi => pi is not null),
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

    public static StripeChargeObject FromJson(JsonElement obj) => new()
    {
        Id = obj.RequireId("charge"),
        PaymentIntentId = obj.ReadId("payment_intent"),
        InvoiceId = obj.ReadId("invoice"),
        Amount = obj.ReadLong("amount") ?? 0,
        AmountRefunded = obj.ReadLong("amount_refunded") ?? 0,
        Refunded = obj.ReadBool("refunded"),
        Metadata = obj.ReadMetadata(),
        Created = obj.ReadTime("created"),
    };
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

    public static StripeDisputeObject FromJson(JsonElement obj) => new()
    {
        Id = obj.RequireId("dispute"),
        ChargeId = obj.ReadId("charge"),
        PaymentIntentId = obj.ReadId("payment_intent"),
        Status = obj.ReadString("status"),
        Created = obj.ReadTime("created"),
    };
}

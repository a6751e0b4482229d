using System.Security.Cryptography;
using Licenzy.Sandbox.StripeApi;

namespace Licenzy.Sandbox.Account;

// The Stripe objects the sandbox makes and remembers. Immutable: a change replaces the record.
// Sequence orders objects of one kind by creation, because the clock may stand still (tests).

/// <summary>Whose an object is, as the metadata Licenzy put on the Checkout Session says.</summary>
public sealed record Owner(string TenantId, string? SubjectRef, string? ProductCode)
{
    public const string TenantKey = "licenzy_tenant";
    public const string SubjectKey = "licenzy_subject";
    public const string ProductKey = "licenzy_product";

    /// <summary>Null when the metadata names no tenant: then there is no Licenzy to tell.</summary>
    public static Owner? From(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue(TenantKey, out var tenant) && !string.IsNullOrEmpty(tenant)
            ? new Owner(tenant, metadata.GetValueOrDefault(SubjectKey), metadata.GetValueOrDefault(ProductKey))
            : null;

    public bool Matches(string tenantId, string subjectRef, string? productCode) =>
        TenantId == tenantId && SubjectRef == subjectRef && (productCode is null || ProductCode == productCode);
}

public static class PriceTypes
{
    public const string OneTime = "one_time";
    public const string Recurring = "recurring";
}

public sealed record SandboxPrice(
    string Id, string Type, long UnitAmount, string Currency, bool Active, string Nickname, DateTimeOffset Created)
{
    public bool IsRecurring => Type == PriceTypes.Recurring;

    /// <summary>Each sandbox price has a product of its own, named after it.</summary>
    public string ProductId => "prod_" + Id.Replace("price_", "", StringComparison.Ordinal);
}

public static class CheckoutModes
{
    public const string Payment = "payment";
    public const string Subscription = "subscription";
}

public static class SessionStatuses
{
    public const string Open = "open";
    public const string Complete = "complete";
    public const string Expired = "expired";
}

public sealed record SandboxCheckoutSession
{
    public required string Id { get; init; }

    /// <summary>What the session was made from: mode, price, quantity, URLs and both metadata.</summary>
    public required CheckoutSessionForm Request { get; init; }

    public required string Url { get; init; }
    public required DateTimeOffset Created { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
    public string Status { get; init; } = SessionStatuses.Open;
    public string PaymentStatus { get; init; } = "unpaid";
    public string? CustomerId { get; init; }

    /// <summary>The email the buyer paid with, once paid.</summary>
    public string? CustomerEmail { get; init; }

    public string? SubscriptionId { get; init; }
    public string? PaymentIntentId { get; init; }
    public string? InvoiceId { get; init; }

    /// <summary>The events its payment made, in the order they were sent.</summary>
    public IReadOnlyList<SandboxEvent> Events { get; init; } = [];

    public long AmountTotal => Request.Price.UnitAmount * Request.Quantity;

    /// <summary>Who is told when it is paid: the tenant in the session's metadata.</summary>
    public Owner? Owner => Licenzy.Sandbox.Account.Owner.From(Request.Metadata);

    /// <summary>Stripe expires an unpaid session after a day; nothing runs to do it, so it is worked out on reading.</summary>
    public string StatusAt(DateTimeOffset now) => Status == SessionStatuses.Open && now >= ExpiresAt ? SessionStatuses.Expired : Status;
}

public static class SubscriptionStatuses
{
    public const string Active = "active";
    public const string Trialing = "trialing";
    public const string PastDue = "past_due";
    public const string Unpaid = "unpaid";
    public const string Canceled = "canceled";
}

public sealed record SandboxSubscription
{
    public required string Id { get; init; }
    public required long Sequence { get; init; }
    public required Owner Owner { get; init; }
    public required string CustomerId { get; init; }
    public required string ItemId { get; init; }
    public required SandboxPrice Price { get; init; }
    public required long Quantity { get; init; }
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }
    public required string Status { get; init; }
    public required DateTimeOffset Created { get; init; }
    public required DateTimeOffset PeriodStart { get; init; }
    public required DateTimeOffset PeriodEnd { get; init; }
    public required string LatestInvoiceId { get; init; }
    public DateTimeOffset? CanceledAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }

    public long Amount => Price.UnitAmount * Quantity;
}

public sealed record SandboxInvoice
{
    public required string Id { get; init; }
    public required string SubscriptionId { get; init; }

    /// <summary>The subscription's item the invoice's one line bills.</summary>
    public required string SubscriptionItemId { get; init; }

    public required string CustomerId { get; init; }

    /// <summary>The subscription's metadata as of the invoice, which is how Stripe ties an invoice back.</summary>
    public required IReadOnlyDictionary<string, string> SubscriptionMetadata { get; init; }

    public required string BillingReason { get; init; }
    public required SandboxPrice Price { get; init; }
    public required long Quantity { get; init; }
    public required DateTimeOffset PeriodStart { get; init; }
    public required DateTimeOffset PeriodEnd { get; init; }
    public required string PaymentIntentId { get; init; }

    /// <summary>The charge that paid it, once paid.</summary>
    public string? ChargeId { get; init; }

    public required DateTimeOffset Created { get; init; }
    public string Status { get; init; } = "open";
    public int AttemptCount { get; init; }
    public DateTimeOffset? PaidAt { get; init; }

    public long Amount => Price.UnitAmount * Quantity;
    public bool IsPaid => Status == "paid";
}

public sealed record SandboxPaymentIntent
{
    public required string Id { get; init; }
    public required long Amount { get; init; }
    public required string Currency { get; init; }
    public string? CustomerId { get; init; }
    public string? InvoiceId { get; init; }
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }
    public required string Status { get; init; }
    public string? LatestChargeId { get; init; }
    public required DateTimeOffset Created { get; init; }
}

public sealed record SandboxCharge
{
    public required string Id { get; init; }
    public required long Sequence { get; init; }
    public required Owner Owner { get; init; }
    public required string PaymentIntentId { get; init; }
    public string? InvoiceId { get; init; }
    public string? CustomerId { get; init; }
    public required long Amount { get; init; }
    public required string Currency { get; init; }
    public required DateTimeOffset Created { get; init; }
    public long AmountRefunded { get; init; }
    public bool Disputed { get; init; }

    public bool FullyRefunded => AmountRefunded >= Amount;
}

public static class DisputeStatuses
{
    public const string NeedsResponse = "needs_response";
    public const string UnderReview = "under_review";
    public const string Won = "won";
    public const string Lost = "lost";

    public static bool IsOpen(string status) => status is NeedsResponse or UnderReview or "warning_needs_response" or "warning_under_review";
}

public sealed record SandboxDispute
{
    public required string Id { get; init; }
    public required long Sequence { get; init; }
    public required Owner Owner { get; init; }
    public required string ChargeId { get; init; }
    public required string PaymentIntentId { get; init; }
    public required long Amount { get; init; }
    public required string Currency { get; init; }
    public required string Status { get; init; }
    public required DateTimeOffset Created { get; init; }
}

/// <summary>A Stripe event as sent: its id and type, and the exact body that is signed.</summary>
public sealed record SandboxEvent(string Id, string Type, string Body);

/// <summary>Stripe-looking object ids: a prefix and 24 random letters and digits.</summary>
/// <summary>
/// A webhook endpoint made through the sandbox's Stripe API (Licenzy registers one per tenant). Its
/// secret signs the webhooks the sandbox sends to that tenant, as Stripe signs with the endpoint's.
/// </summary>
public sealed record SandboxWebhookEndpoint(
    string Id, string Url, IReadOnlyList<string> EnabledEvents, string? ApiVersion, string Secret, DateTimeOffset Created, long Sequence)
{
    /// <summary>Whether Stripe would send this endpoint the events of <paramref name="tenantId"/>'s test mode: its URL is that tenant's ingest route.</summary>
    public bool IsIngestRouteOf(string tenantId) =>
        Uri.TryCreate(Url, UriKind.Absolute, out var url)
        && url.AbsolutePath.EndsWith("/" + Webhooks.WebhookSender.IngestPath(tenantId), StringComparison.Ordinal);
}

public static class StripeIds
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static string New(string prefix) => $"{prefix}_{RandomNumberGenerator.GetString(Alphabet, 24)}";
}

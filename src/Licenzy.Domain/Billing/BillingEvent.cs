using System.Text.Json.Serialization;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Products;

namespace Licenzy.Domain.Billing;

/// <summary>
/// A verified billing fact about one subject, in Licenzy's words (no Stripe types). The Api turns
/// each Stripe event into one of these, with the product it concerns. The discriminator lets an
/// event cross to the subject's actor as JSON.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "event")]
[JsonDerivedType(typeof(CheckoutCompleted), "checkout_completed")]
[JsonDerivedType(typeof(CheckoutAsyncPaymentSucceeded), "checkout_async_payment_succeeded")]
[JsonDerivedType(typeof(CheckoutAsyncPaymentFailed), "checkout_async_payment_failed")]
[JsonDerivedType(typeof(SubscriptionChanged), "subscription_changed")]
[JsonDerivedType(typeof(SubscriptionDeleted), "subscription_deleted")]
[JsonDerivedType(typeof(InvoicePaid), "invoice_paid")]
[JsonDerivedType(typeof(InvoicePaymentFailed), "invoice_payment_failed")]
[JsonDerivedType(typeof(ChargeRefunded), "charge_refunded")]
[JsonDerivedType(typeof(DisputeOpened), "dispute_opened")]
[JsonDerivedType(typeof(DisputeClosed), "dispute_closed")]
public abstract record BillingEvent
{
    /// <summary>Stripe's event id: applying the same id twice changes nothing.</summary>
    public required string EventId { get; init; }

    /// <summary>When Stripe says it happened (the event's <c>created</c>), not when it arrived.</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    public required Product Product { get; init; }

    /// <summary>The Stripe subscription it concerns, for subscription products.</summary>
    public string? SubscriptionId { get; init; }
}

/// <summary>How a Checkout Session says it was paid.</summary>
public enum CheckoutPayment { Paid, Unpaid, NoPaymentRequired }

/// <summary>What every Checkout Session event carries.</summary>
public abstract record CheckoutEvent : BillingEvent
{
    public required string CheckoutSessionId { get; init; }
    public string? PaymentIntentId { get; init; }

    /// <summary>The buyer's email from the session's customer details, when there is one.</summary>
    public string? CustomerEmail { get; init; }
}

/// <summary><c>checkout.session.completed</c>.</summary>
public sealed record CheckoutCompleted : CheckoutEvent
{
    public required CheckoutPayment Payment { get; init; }
}

/// <summary><c>checkout.session.async_payment_succeeded</c>: a delayed payment went through.</summary>
public sealed record CheckoutAsyncPaymentSucceeded : CheckoutEvent;

/// <summary><c>checkout.session.async_payment_failed</c>: a delayed payment did not.</summary>
public sealed record CheckoutAsyncPaymentFailed : CheckoutEvent;

/// <summary><c>customer.subscription.created</c> / <c>.updated</c>: the subscription as it now stands.</summary>
public sealed record SubscriptionChanged : BillingEvent
{
    public required SubscriptionStatus Status { get; init; }
    public DateTimeOffset? PeriodEnd { get; init; }

    /// <summary>For a canceled subscription: when it ended (else when it was canceled).</summary>
    public DateTimeOffset? EndedAt { get; init; }
}

/// <summary><c>customer.subscription.deleted</c>: the subscription ended.</summary>
public sealed record SubscriptionDeleted : BillingEvent
{
    public DateTimeOffset? EndedAt { get; init; }
    public DateTimeOffset? PeriodEnd { get; init; }
}

/// <summary><c>invoice.paid</c>: a subscription payment went through.</summary>
public sealed record InvoicePaid : BillingEvent
{
    public DateTimeOffset? PeriodEnd { get; init; }
}

/// <summary><c>invoice.payment_failed</c>: a subscription payment did not.</summary>
public sealed record InvoicePaymentFailed : BillingEvent;

/// <summary><c>charge.refunded</c>: money went back for one payment.</summary>
public sealed record ChargeRefunded : BillingEvent
{
    public required string PaymentIntentId { get; init; }

    /// <summary>Only a full refund takes anything away.</summary>
    public required bool FullyRefunded { get; init; }
}

/// <summary><c>charge.dispute.created</c>.</summary>
public sealed record DisputeOpened : BillingEvent
{
    public required string DisputeId { get; init; }
    public required string PaymentIntentId { get; init; }
}

/// <summary><c>charge.dispute.closed</c>: won restores, lost revokes.</summary>
public sealed record DisputeClosed : BillingEvent
{
    public required string DisputeId { get; init; }
    public required string PaymentIntentId { get; init; }
    public required bool Won { get; init; }
}

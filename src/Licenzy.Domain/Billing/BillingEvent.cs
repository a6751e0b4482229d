using System.Text.Json.Serialization;
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
public abstract record BillingEvent
{
    /// <summary>Stripe's event id: applying the same id twice changes nothing.</summary>
    public required string EventId { get; init; }

    /// <summary>When Stripe says it happened (the event's <c>created</c>), not when it arrived.</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    public required Product Product { get; init; }
}

/// <summary>How a Checkout Session says it was paid.</summary>
public enum CheckoutPayment { Paid, Unpaid, NoPaymentRequired }

/// <summary>What every Checkout Session event carries.</summary>
public abstract record CheckoutEvent : BillingEvent
{
    public required string CheckoutSessionId { get; init; }
    public string? SubscriptionId { get; init; }
    public string? PaymentIntentId { get; init; }
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

namespace Licenzy.Domain.Entitlements;

/// <summary>
/// Where a payment for one Checkout Session stands. States only move up this order, so events
/// that arrive late or twice cannot undo a later state.
/// </summary>
public enum PurchaseState { Pending = 0, Failed = 1, Paid = 2 }

/// <summary>One Checkout Session that bought (or is buying) an entitlement.</summary>
public sealed class Purchase
{
    public required string CheckoutSessionId { get; init; }
    public string? PaymentIntentId { get; set; }
    public PurchaseState State { get; set; }

    /// <summary>When Stripe said the purchase reached its state (the event's own time, not ours).</summary>
    public DateTimeOffset At { get; set; }

    /// <summary>Paid with nothing to pay: a subscription that starts with a trial.</summary>
    public bool NoPaymentRequired { get; set; }

    /// <summary>The buyer's email from the Checkout Session (its customer details), when Stripe gave one.</summary>
    public string? Email { get; set; }
}

using System.Collections.ObjectModel;

namespace Licenzy.Stripe;

/// <summary>What Licenzy needs from <c>GET /v1/balance</c>: which mode the key belongs to.</summary>
public sealed record StripeBalance(bool Livemode);

/// <summary>A Stripe price, as <c>GET /v1/prices/{id}</c> returns it.</summary>
public sealed record StripePrice
{
    public const string OneTime = "one_time";
    public const string Recurring = "recurring";

    public required string Id { get; init; }
    public bool Active { get; init; }
    public bool Livemode { get; init; }

    /// <summary><see cref="OneTime"/> or <see cref="Recurring"/>.</summary>
    public string? Type { get; init; }

    public string? Currency { get; init; }
    public long? UnitAmount { get; init; }
    public string? ProductId { get; init; }

    /// <summary><c>day</c>, <c>week</c>, <c>month</c> or <c>year</c> for recurring prices.</summary>
    public string? RecurringInterval { get; init; }
}

/// <summary>A Checkout Session just created; <see cref="Url"/> is where the buyer pays.</summary>
public sealed record StripeCheckoutSession
{
    public required string Id { get; init; }
    public string? Url { get; init; }
    public bool Livemode { get; init; }
    public string? Mode { get; init; }
    public string? Status { get; init; }
    public string? PaymentStatus { get; init; }
}

/// <summary>A webhook endpoint of a Stripe account, as <c>/v1/webhook_endpoints</c> answers it.</summary>
public sealed record StripeWebhookEndpoint
{
    public required string Id { get; init; }
    public required string Url { get; init; }
    public IReadOnlyList<string> EnabledEvents { get; init; } = [];
    public bool Livemode { get; init; }

    /// <summary><c>enabled</c> or <c>disabled</c>.</summary>
    public string? Status { get; init; }

    /// <summary>The signing secret (<c>whsec_...</c>): Stripe sends it only when the endpoint is created.</summary>
    public string? Secret { get; init; }
}

public enum CheckoutMode
{
    /// <summary>A recurring price; Stripe creates a subscription.</summary>
    Subscription,

    /// <summary>A one-time price; Stripe creates a payment intent.</summary>
    Payment,
}

/// <summary>The Checkout Session Licenzy asks Stripe for: one price, tagged so events can be tied back.</summary>
public sealed record CheckoutSessionCreate
{
    public required CheckoutMode Mode { get; init; }
    public required string PriceId { get; init; }
    public int Quantity { get; init; } = 1;
    public string? SuccessUrl { get; init; }
    public string? CancelUrl { get; init; }
    public required string ClientReferenceId { get; init; }

    /// <summary>Copied onto the session and onto the subscription or payment intent it creates.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = ReadOnlyDictionary<string, string>.Empty;
}

namespace Licenzy.Domain;

/// <summary>A company that uses Licenzy, with its own products, keys and Stripe accounts.</summary>
public sealed record Tenant(string TenantId, string Name, DateTimeOffset CreatedAt);

/// <summary>
/// A tenant's Stripe account for one mode. The secrets are stored protected (encrypted at rest)
/// and are only ever unprotected in memory, to call Stripe or to check a signature.
/// </summary>
public sealed record StripeConnection(string ProtectedSecretKey, string ProtectedWebhookSecret, DateTimeOffset ConnectedAt)
{
    /// <summary>The data-protection purpose both apps use for these secrets.</summary>
    public const string ProtectionPurpose = "Licenzy.StripeConnection.v1";

    /// <summary>
    /// How long a replaced webhook secret still verifies events: Stripe's own window when an
    /// endpoint's secret is rolled, so nothing is refused while the dashboard and Licenzy are
    /// changed one after the other.
    /// </summary>
    public static readonly TimeSpan RollingWindow = TimeSpan.FromHours(24);

    /// <summary>The Stripe webhook endpoint Licenzy registered for this tenant and mode, if it did; null for a secret the operator gave.</summary>
    public string? WebhookEndpointId { get; init; }

    /// <summary>The webhook secret this one replaced, protected, while it is within <see cref="RollingWindow"/>.</summary>
    public string? ProtectedPreviousWebhookSecret { get; init; }

    /// <summary>Until when <see cref="ProtectedPreviousWebhookSecret"/> verifies events (exclusive).</summary>
    public DateTimeOffset? PreviousWebhookSecretUntil { get; init; }

    /// <summary>Whether the previous secret still verifies events at <paramref name="now"/>.</summary>
    public bool PreviousSecretAcceptedAt(DateTimeOffset now) =>
        ProtectedPreviousWebhookSecret is not null && PreviousWebhookSecretUntil is { } until && now < until;
}

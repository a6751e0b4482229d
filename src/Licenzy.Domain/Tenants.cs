namespace Licenzy.Domain;

/// <summary>A company that uses Licenzy, with its own products, keys and Stripe accounts.</summary>
public sealed record Tenant(string TenantId, string Name, DateTimeOffset CreatedAt);

/// <summary>
/// A tenant's Stripe account for one mode. The two secrets are stored protected (encrypted at
/// rest) and are only ever unprotected in memory, to call Stripe or to check a signature.
/// </summary>
public sealed record StripeConnection(string ProtectedSecretKey, string ProtectedWebhookSecret, DateTimeOffset ConnectedAt)
{
    /// <summary>The data-protection purpose both apps use for these secrets.</summary>
    public const string ProtectionPurpose = "Licenzy.StripeConnection.v1";
}

using System.Security.Cryptography;
using System.Text;
using Licenzy.Domain.Entitlements;

namespace Licenzy.Domain.Licenses;

/// <summary>Where a license stands, as its holder is told.</summary>
public enum LicenseStatus { Active, Pending, Suspended, Expired, Revoked }

/// <summary>
/// A license key provisioned for one purchase (one Checkout Session) of a product that issues
/// licenses. It keeps only what cannot be derived: its id, what it belongs to and its key
/// material. Everything else (status, dates, email, policy) comes from its entitlement and the
/// purchase at read time, so a license follows its entitlement through every lifecycle row and
/// cannot disagree with it.
/// </summary>
public sealed class License
{
    public required string Id { get; init; }
    public required string EntitlementId { get; init; }
    public required string CheckoutSessionId { get; init; }

    /// <summary>SHA-256 of the key, lower-case hex: how a key is found. Null until the key is issued.</summary>
    public string? KeyHash { get; set; }

    /// <summary>The key, encrypted by the application's key ring. Null until the key is issued.</summary>
    public string? ProtectedKey { get; set; }

    /// <summary>Whether the key has been issued (the domain provisions licenses; the application makes their keys).</summary>
    public bool HasKey => KeyHash is not null;

    /// <summary>
    /// The id comes from the entitlement and the Checkout Session, so whichever event provisions
    /// the license, in whatever order, it is the same one.
    /// </summary>
    public static string IdFor(string entitlementId, string checkoutSessionId)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{entitlementId}\n{checkoutSessionId}"));
        return "lic_" + Convert.ToHexStringLower(hash.AsSpan(0, 12));
    }

    /// <summary>
    /// The license at <paramref name="now"/>: valid exactly when its entitlement is available,
    /// except that a full refund or lost dispute of its own payment revokes it even when other
    /// purchases keep the entitlement going (a second time pass, a second usage pack).
    /// </summary>
    public LicenseState Evaluate(Entitlement entitlement, DateTimeOffset now)
    {
        var purchase = entitlement.Purchases.Find(p => p.CheckoutSessionId == CheckoutSessionId);
        if (purchase?.PaymentIntentId is { } paymentIntent && IsTakenBack(entitlement, paymentIntent))
            return new LicenseState(LicenseStatus.Revoked, Valid: false, entitlement.ExpiresAt, GraceEndsAt: null);

        var availability = entitlement.Evaluate(now);
        var status = availability.Available ? LicenseStatus.Active : availability.Status switch
        {
            EntitlementStatus.Pending => LicenseStatus.Pending,
            EntitlementStatus.Suspended => LicenseStatus.Suspended,
            EntitlementStatus.Revoked => LicenseStatus.Revoked,
            // Canceled past its grace, expired, or a usage pack with nothing left.
            _ => LicenseStatus.Expired,
        };
        var graceEndsAt = availability.Reason == AvailabilityReason.InGracePeriod ? entitlement.GraceEndsAt : null;
        return new LicenseState(status, availability.Available, entitlement.ExpiresAt, graceEndsAt);
    }

    private static bool IsTakenBack(Entitlement entitlement, string paymentIntentId) =>
        entitlement.Refunds.Exists(r => r.PaymentIntentId == paymentIntentId)
        || entitlement.Disputes.Exists(d => d.Won == false && d.PaymentIntentId == paymentIntentId);
}

/// <summary>A license as it stands at one instant.</summary>
public readonly record struct LicenseState(LicenseStatus Status, bool Valid, DateTimeOffset? ExpiresAt, DateTimeOffset? GraceEndsAt);

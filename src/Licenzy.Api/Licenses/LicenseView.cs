using Licenzy.Api.Http;
using Licenzy.Domain.Licenses;
using Licenzy.Domain.Subjects;

namespace Licenzy.Api.Licenses;

public sealed record LicensePolicy(string Code, string Name, IReadOnlyList<string> Features);

/// <summary>The license object of the public contract.</summary>
public sealed record LicenseResponse(
    string Id, string Key, string Status, bool Valid, string SubjectRef, string? Email, string ProductCode, LicensePolicy Policy,
    string EntitlementId, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? GraceEndsAt, DateTimeOffset UpdatedAt,
    long Version)
{
    /// <summary>
    /// The license at <paramref name="now"/>, from its entitlement and purchase. Created is when
    /// Stripe said the purchase was paid; the policy name falls back to the product code for a
    /// product created without a name.
    /// </summary>
    public static LicenseResponse Of(License license, SubjectState subject, string key, DateTimeOffset now)
    {
        var entitlement = subject.Find(license.EntitlementId)
            ?? throw new InvalidOperationException($"license {license.Id} names an entitlement its document does not have");
        var purchase = entitlement.Purchases.Find(p => p.CheckoutSessionId == license.CheckoutSessionId);
        var state = license.Evaluate(entitlement, now);
        return new LicenseResponse(license.Id, key, Wire.Of(state.Status), state.Valid, subject.SubjectRef, purchase?.Email,
            entitlement.ProductCode, new LicensePolicy(entitlement.ProductCode, entitlement.PolicyName ?? entitlement.ProductCode, entitlement.Features),
            entitlement.Id, purchase?.At ?? entitlement.UpdatedAt, state.ExpiresAt, state.GraceEndsAt, entitlement.UpdatedAt, subject.Version);
    }
}

namespace Licenzy.Client;

/// <summary>A Checkout Session Licenzy asked Stripe for: send the buyer to <see cref="CheckoutUrl"/>.</summary>
public sealed record CheckoutSession(string AttemptId, string Status, string CheckoutUrl, string Mode);

/// <summary>The answer of an access check, as of <see cref="AsOf"/>.</summary>
public sealed record AccessCheck(string SubjectRef, bool Allowed, long Version, DateTimeOffset AsOf, string? Feature);

/// <summary>One entitlement, as the customer view shows it.</summary>
public sealed record CustomerEntitlement(string ProductCode, string Kind, string Status, bool Available, string AvailabilityReason,
    IReadOnlyList<string> Features, long? UsageRemaining, DateTimeOffset? ExpiresAt, DateTimeOffset? GraceEndsAt);

/// <summary>What a subject has, summarised.</summary>
public sealed record CustomerAccess(string SubjectRef, bool HasAccess, string Status, long Version, DateTimeOffset AsOf,
    IReadOnlyList<CustomerEntitlement> Entitlements);

/// <summary>One entitlement with every field (API.md's entitlement object).</summary>
public sealed record Entitlement(string Id, string ProductCode, string Kind, string Status, bool Available, string AvailabilityReason,
    IReadOnlyList<string> Features, long? UsageGranted, long? UsageRemaining, DateTimeOffset? StartsAt, DateTimeOffset? ExpiresAt,
    DateTimeOffset? GraceEndsAt, DateTimeOffset UpdatedAt);

/// <summary>A subject's entitlements with every field, as of <see cref="AsOf"/>.</summary>
public sealed record EntitlementList(string SubjectRef, long Version, DateTimeOffset AsOf, IReadOnlyList<Entitlement> Entitlements);

/// <summary>Units spent. <see cref="Replayed"/>: the answer to an earlier call with the same idempotency key.</summary>
public sealed record UsageConsumed(long Consumed, long UsageRemaining, string IdempotencyKey, bool Replayed);

/// <summary>A license's policy: its product and the features it unlocks.</summary>
public sealed record LicensePolicy(string Code, string? Name, IReadOnlyList<string> Features);

/// <summary>A license (API.md, "Licenses").</summary>
public sealed record License(string Id, string Key, string Status, bool Valid, string SubjectRef, string? Email, string ProductCode,
    LicensePolicy Policy, string EntitlementId, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? GraceEndsAt,
    DateTimeOffset UpdatedAt, long Version);

/// <summary>The answer of a license validation: <see cref="Code"/> says why when it is not valid.</summary>
public sealed record LicenseValidation(bool Valid, string Code, License? License, DateTimeOffset AsOf);

/// <summary>A signed entitlement token, as Licenzy issued it (verify it before use; <see cref="LicenzyClient.IsAllowedAsync"/> does).</summary>
public sealed record AccessToken(string Token, DateTimeOffset ExpiresAt, long Version);

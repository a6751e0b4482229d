namespace Licenzy.Domain.Entitlements;

public enum EntitlementStatus { Pending, Active, Trialing, Suspended, Canceled, Expired, Revoked }

/// <summary>Why an entitlement is, or is not, available right now.</summary>
public enum AvailabilityReason
{
    SubscriptionActive,
    SubscriptionTrialing,
    InGracePeriod,
    PassActive,
    UsageAvailable,
    PaymentPending,
    PaymentFailed,
    Disputed,
    SubscriptionPaused,
    SubscriptionCanceled,
    PassExpired,
    UsageExhausted,
    Refunded,
}

/// <summary>An entitlement as it stands at one instant: what a caller is told.</summary>
public readonly record struct Availability(
    EntitlementStatus Status,
    bool Available,
    AvailabilityReason Reason,
    long? UsageRemaining);

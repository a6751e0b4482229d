using System.Security.Cryptography;
using System.Text;
using Licenzy.Domain.Products;

namespace Licenzy.Domain.Entitlements;

/// <summary>
/// A right a subject bought: one per Stripe subscription, and one per time-pass or usage-pack
/// product (further purchases of the same pass or pack extend or top it up). The product's terms
/// are copied in when it is first bought, so evaluating access never needs the catalogue.
/// </summary>
public sealed class Entitlement
{
    /// <summary>Access kept past a subscription's period end while Stripe's renewal events arrive.</summary>
    public static readonly TimeSpan RenewalLeeway = TimeSpan.FromDays(1);

    public required string Id { get; init; }
    public required string ProductCode { get; init; }
    public required ProductKind Kind { get; init; }
    public List<string> Features { get; set; } = [];

    /// <summary>The stored status; time may move it on (see <see cref="Evaluate"/>).</summary>
    public EntitlementStatus Status { get; set; }

    /// <summary>The stored reason behind a status that is not plainly usable, e.g. payment_failed.</summary>
    public AvailabilityReason? Reason { get; set; }

    public DateTimeOffset? StartsAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? GraceEndsAt { get; set; }

    public long? UsageGranted { get; set; }
    public long UsageConsumed { get; set; }

    public string? SubscriptionId { get; set; }
    public int? DurationDays { get; init; }
    public long? UsageUnits { get; init; }
    public int GracePeriodDays { get; init; }
    public int PaymentFailureGraceDays { get; init; }

    public List<Purchase> Purchases { get; set; } = [];
    public DateTimeOffset UpdatedAt { get; set; }

    public static Entitlement For(string subjectRef, Product product, string anchor) => new()
    {
        Id = IdFor(subjectRef, anchor),
        ProductCode = product.Code,
        Kind = product.Kind,
        Features = [.. product.Features],
        Status = EntitlementStatus.Pending,
        Reason = AvailabilityReason.PaymentPending,
        DurationDays = product.DurationDays,
        UsageUnits = product.UsageUnits,
        GracePeriodDays = product.GracePeriodDays,
        PaymentFailureGraceDays = product.PaymentFailureGraceDays,
    };

    /// <summary>
    /// The id is derived from what anchors the entitlement (its subscription, or its product for
    /// passes and packs), so that any event about it, in any order, finds or makes the same one.
    /// </summary>
    public static string IdFor(string subjectRef, string anchor)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{subjectRef}\n{anchor}"));
        return "ent_" + Convert.ToHexStringLower(hash.AsSpan(0, 12));
    }

    public long? UsageRemaining => UsageGranted is { } granted ? Math.Max(0, granted - UsageConsumed) : null;

    /// <summary>What this entitlement means at <paramref name="now"/>. Expiry counts here, at read time.</summary>
    public Availability Evaluate(DateTimeOffset now) => (Kind, Status) switch
    {
        (_, EntitlementStatus.Pending) => Unavailable(EntitlementStatus.Pending, AvailabilityReason.PaymentPending),
        (ProductKind.Subscription, EntitlementStatus.Active) => WithinPeriod(now)
            ? Usable(EntitlementStatus.Active, AvailabilityReason.SubscriptionActive)
            : Unavailable(EntitlementStatus.Expired, AvailabilityReason.SubscriptionCanceled),
        (ProductKind.Subscription, EntitlementStatus.Trialing) => WithinPeriod(now)
            ? Usable(EntitlementStatus.Trialing, AvailabilityReason.SubscriptionTrialing)
            : Unavailable(EntitlementStatus.Expired, AvailabilityReason.SubscriptionCanceled),
        (ProductKind.TimePass, EntitlementStatus.Active) => ExpiresAt is { } end && now < end
            ? Usable(EntitlementStatus.Active, AvailabilityReason.PassActive)
            : Unavailable(EntitlementStatus.Expired, AvailabilityReason.PassExpired),
        (ProductKind.UsagePack, EntitlementStatus.Active) => UsageRemaining > 0
            ? Usable(EntitlementStatus.Active, AvailabilityReason.UsageAvailable)
            : Unavailable(EntitlementStatus.Active, AvailabilityReason.UsageExhausted),
        _ => Unavailable(Status, Reason ?? AvailabilityReason.PaymentFailed),
    };

    private bool WithinPeriod(DateTimeOffset now) => ExpiresAt is not { } end || now < end + RenewalLeeway;

    private Availability Usable(EntitlementStatus status, AvailabilityReason reason) => new(status, true, reason, UsageRemaining);

    private Availability Unavailable(EntitlementStatus status, AvailabilityReason reason) => new(status, false, reason, UsageRemaining);
}

using System.Security.Cryptography;
using System.Text;
using Licenzy.Domain.Products;

namespace Licenzy.Domain.Entitlements;

/// <summary>
/// A right a subject bought: one per Stripe subscription, and one per time-pass or usage-pack
/// product (further purchases of the same pass or pack extend or top it up). It keeps the facts
/// Stripe reported (purchases, subscription snapshots, payments, refunds, disputes) and derives
/// its status from them in <see cref="Recompute"/>, so the order of events cannot change the
/// outcome. The product's terms are copied in when it is first bought, so evaluating access never
/// needs the catalogue.
/// </summary>
public sealed class Entitlement
{
    /// <summary>Access kept past a subscription's period end while Stripe's renewal events arrive.</summary>
    public static readonly TimeSpan RenewalLeeway = TimeSpan.FromDays(1);

    public required string Id { get; init; }
    public required string ProductCode { get; init; }
    public required ProductKind Kind { get; init; }
    public List<string> Features { get; set; } = [];
    public int? DurationDays { get; init; }
    public long? UsageUnits { get; init; }
    public int GracePeriodDays { get; init; }
    public int PaymentFailureGraceDays { get; init; }

    /// <summary>Whether each paid purchase provisions a license (the product was a license policy when bought).</summary>
    public bool IssueLicense { get; init; }

    /// <summary>The product's display name when bought: a license's policy name.</summary>
    public string? PolicyName { get; init; }

    // Derived from the facts below by Recompute; stored so that reads need no work.

    /// <summary>The stored status; time may move it on (see <see cref="Evaluate"/>).</summary>
    public EntitlementStatus Status { get; set; }

    /// <summary>The stored reason behind a status that is not plainly usable, e.g. payment_failed.</summary>
    public AvailabilityReason? Reason { get; set; }

    public DateTimeOffset? StartsAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? GraceEndsAt { get; set; }
    public long? UsageGranted { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Units spent; the usage ledger's part of the state.</summary>
    public long UsageConsumed { get; set; }

    // The facts.

    public string? SubscriptionId { get; set; }
    public List<Purchase> Purchases { get; set; } = [];
    public SubscriptionFacts? Subscription { get; set; }

    /// <summary>Payments (payment intents) that were refunded in full.</summary>
    public List<RefundFact> Refunds { get; set; } = [];

    public List<DisputeFact> Disputes { get; set; } = [];

    /// <summary>When units were last spent (the usage ledger's fact).</summary>
    public DateTimeOffset? LastConsumedAt { get; set; }

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
        IssueLicense = product.IssueLicense,
        PolicyName = product.Name,
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

    public long? UsageRemaining => Remaining(UsageGranted, UsageConsumed);

    /// <summary>Units left of <paramref name="granted"/> (null for entitlements without units).</summary>
    public static long? Remaining(long? granted, long consumed) => granted is { } units ? Math.Max(0, units - consumed) : null;

    /// <summary>What this entitlement means at <paramref name="now"/>. Expiry and grace count here, at read time.</summary>
    public Availability Evaluate(DateTimeOffset now) => (Kind, Status) switch
    {
        (_, EntitlementStatus.Pending) => Unavailable(EntitlementStatus.Pending, AvailabilityReason.PaymentPending),
        (ProductKind.Subscription, EntitlementStatus.Active) => WithinPeriod(now)
            ? Usable(EntitlementStatus.Active, AvailabilityReason.SubscriptionActive)
            : Unavailable(EntitlementStatus.Expired, AvailabilityReason.SubscriptionCanceled),
        (ProductKind.Subscription, EntitlementStatus.Trialing) => WithinPeriod(now)
            ? Usable(EntitlementStatus.Trialing, AvailabilityReason.SubscriptionTrialing)
            : Unavailable(EntitlementStatus.Expired, AvailabilityReason.SubscriptionCanceled),
        (ProductKind.Subscription, EntitlementStatus.Canceled) => now < GraceEndsAt
            ? Usable(EntitlementStatus.Canceled, AvailabilityReason.InGracePeriod)
            : Unavailable(EntitlementStatus.Expired, AvailabilityReason.SubscriptionCanceled),
        (ProductKind.Subscription, EntitlementStatus.Suspended) when Reason == AvailabilityReason.PaymentFailed && now < GraceEndsAt =>
            Usable(EntitlementStatus.Suspended, AvailabilityReason.InGracePeriod),
        (ProductKind.TimePass, EntitlementStatus.Active) => ExpiresAt is { } end && now < end
            ? Usable(EntitlementStatus.Active, AvailabilityReason.PassActive)
            : Unavailable(EntitlementStatus.Expired, AvailabilityReason.PassExpired),
        (ProductKind.UsagePack, EntitlementStatus.Active) => UsageRemaining > 0
            ? Usable(EntitlementStatus.Active, AvailabilityReason.UsageAvailable)
            : Unavailable(EntitlementStatus.Active, AvailabilityReason.UsageExhausted),
        _ => Unavailable(Status, Reason ?? AvailabilityReason.PaymentFailed),
    };

    /// <summary>
    /// Until when this entitlement is available, as it stands: <c>Evaluate(now).Available</c> is
    /// exactly <c>now &lt; AvailableUntil</c>. <see cref="DateTimeOffset.MinValue"/> means not at
    /// all, <see cref="DateTimeOffset.MaxValue"/> until something changes. Access checks answer from
    /// this one instant per entitlement (see the access index), so it must agree with <see cref="Evaluate"/>.
    /// </summary>
    public DateTimeOffset AvailableUntil => AvailabilityEnd(Kind, Status, Reason, ExpiresAt, GraceEndsAt, UsageRemaining);

    /// <summary><see cref="AvailableUntil"/> from the stored fields alone, for readers that keep only those.</summary>
    public static DateTimeOffset AvailabilityEnd(ProductKind kind, EntitlementStatus status, AvailabilityReason? reason,
        DateTimeOffset? expiresAt, DateTimeOffset? graceEndsAt, long? usageRemaining) => (kind, status) switch
    {
        (_, EntitlementStatus.Pending) => DateTimeOffset.MinValue,
        (ProductKind.Subscription, EntitlementStatus.Active or EntitlementStatus.Trialing) =>
            expiresAt is { } end ? end + RenewalLeeway : DateTimeOffset.MaxValue,
        (ProductKind.Subscription, EntitlementStatus.Canceled) => graceEndsAt ?? DateTimeOffset.MinValue,
        (ProductKind.Subscription, EntitlementStatus.Suspended) when reason == AvailabilityReason.PaymentFailed =>
            graceEndsAt ?? DateTimeOffset.MinValue,
        (ProductKind.TimePass, EntitlementStatus.Active) => expiresAt ?? DateTimeOffset.MinValue,
        (ProductKind.UsagePack, EntitlementStatus.Active) => usageRemaining > 0 ? DateTimeOffset.MaxValue : DateTimeOffset.MinValue,
        _ => DateTimeOffset.MinValue,
    };

    private bool WithinPeriod(DateTimeOffset now) => ExpiresAt is not { } end || now < end + RenewalLeeway;

    private Availability Usable(EntitlementStatus status, AvailabilityReason reason) => new(status, true, reason, UsageRemaining);

    private Availability Unavailable(EntitlementStatus status, AvailabilityReason reason) => new(status, false, reason, UsageRemaining);

    /// <summary>
    /// Derives status, reason, dates and units from the facts alone. Revocation (a full refund or a
    /// lost dispute) outranks an open dispute, which outranks everything else.
    /// </summary>
    public void Recompute()
    {
        var refunded = Refunds.Select(r => r.PaymentIntentId).ToHashSet();
        var lost = Disputes.Where(d => d.Won == false && d.PaymentIntentId is not null).Select(d => d.PaymentIntentId!).ToHashSet();
        bool Revoked(Purchase p) => p.PaymentIntentId is { } pi && (refunded.Contains(pi) || lost.Contains(pi));
        // Purchases are kept in session order and OrderBy is stable, so purchases of the same instant stay in session order.
        var paid = Purchases
            .Where(p => p.State == PurchaseState.Paid && !Revoked(p))
            .OrderBy(p => p.At)
            .ToList();

        GraceEndsAt = null;
        if (Kind == ProductKind.Subscription) DeriveSubscription(paid);
        else DeriveOneTime(paid);

        if (Kind == ProductKind.Subscription && (refunded.Count > 0 || lost.Count > 0))
            Set(EntitlementStatus.Revoked, refunded.Count > 0 ? AvailabilityReason.Refunded : AvailabilityReason.Disputed);
        else if (Status != EntitlementStatus.Revoked && Disputes.Any(d => d.IsOpen))
            Set(EntitlementStatus.Suspended, AvailabilityReason.Disputed);

        UpdatedAt = LatestFact();
    }

    /// <summary>When the entitlement last changed: the latest time among its facts, whatever order they came in.</summary>
    private DateTimeOffset LatestFact()
    {
        IEnumerable<DateTimeOffset?> times =
        [
            .. Purchases.Select(p => (DateTimeOffset?)p.At),
            .. Refunds.Select(r => (DateTimeOffset?)r.At),
            .. Disputes.Select(d => d.OpenedAt),
            .. Disputes.Select(d => d.ClosedAt),
            .. Subscription?.FailedAt.Select(at => (DateTimeOffset?)at) ?? [],
            Subscription?.Snapshot?.At,
            Subscription?.LastPaidAt,
            Subscription?.EndedAt,
            LastConsumedAt,
        ];
        return times.Max() ?? DateTimeOffset.MinValue;
    }

    private void DeriveOneTime(List<Purchase> paid)
    {
        StartsAt = paid.Count > 0 ? paid[0].At : null;
        ExpiresAt = Kind == ProductKind.TimePass && paid.Count > 0 ? PassEnd(paid, TimeSpan.FromDays(DurationDays ?? 0)) : null;
        UsageGranted = Kind == ProductKind.UsagePack ? paid.Count * (UsageUnits ?? 0) : null;

        if (paid.Count > 0) Set(EntitlementStatus.Active, null);
        // Nothing paid is left, so any paid purchase was taken back.
        else if (Purchases.Any(p => p.State == PurchaseState.Paid)) Set(EntitlementStatus.Revoked, Refunds.Count > 0 ? AvailabilityReason.Refunded : AvailabilityReason.Disputed);
        else if (Purchases.Any(p => p.State == PurchaseState.Pending)) Set(EntitlementStatus.Pending, AvailabilityReason.PaymentPending);
        else Set(EntitlementStatus.Expired, AvailabilityReason.PaymentFailed);
    }

    /// <summary>Each pass runs from the later of its payment and the end of the passes before it.</summary>
    private static DateTimeOffset PassEnd(List<Purchase> paidInOrder, TimeSpan duration)
    {
        var end = paidInOrder[0].At;
        foreach (var purchase in paidInOrder)
        {
            end = new[] { end, purchase.At }.Max() + duration;
        }
        return end;
    }

    /// <summary>
    /// A subscription ends when Stripe says so; otherwise the latest word decides: the newest
    /// snapshot, unless a payment (or failure) after it says otherwise.
    /// </summary>
    private void DeriveSubscription(List<Purchase> paid)
    {
        var facts = Subscription ?? new SubscriptionFacts();
        // Every paid checkout records a start, so the facts know the earliest one.
        StartsAt = facts.StartedAt;
        ExpiresAt = facts.PeriodEnd;

        if (facts.EndedAt is { } ended)
        {
            Set(EntitlementStatus.Canceled, AvailabilityReason.SubscriptionCanceled);
            GraceEndsAt = ended + TimeSpan.FromDays(GracePeriodDays);
            return;
        }

        var lastPaid = paid.Select(p => (DateTimeOffset?)p.At).Append(facts.LastPaidAt).Max();
        var failing = FailingSince(facts, lastPaid);
        var lastFailure = facts.FailedAt.Count > 0 ? facts.FailedAt[^1] : (DateTimeOffset?)null;
        var snapshot = facts.Snapshot;

        if (snapshot is null)
        {
            if (failing is not null) SuspendForPayment(failing.Value);
            else if (paid.Count > 0) Set(paid[0].NoPaymentRequired && facts.LastPaidAt is null ? EntitlementStatus.Trialing : EntitlementStatus.Active, null);
            else if (facts.LastPaidAt is not null) Set(EntitlementStatus.Active, null);
            else if (Purchases.Count > 0 && Purchases.All(p => p.State == PurchaseState.Failed)) Set(EntitlementStatus.Expired, AvailabilityReason.PaymentFailed);
            else Set(EntitlementStatus.Pending, AvailabilityReason.PaymentPending);
            return;
        }

        if (failing is not null && lastFailure > snapshot.At) SuspendForPayment(failing.Value);
        else if (lastPaid > snapshot.At && snapshot.Status is SubscriptionStatus.PastDue or SubscriptionStatus.Unpaid or SubscriptionStatus.Incomplete)
            Set(EntitlementStatus.Active, null);
        else
        {
            switch (snapshot.Status)
            {
                case SubscriptionStatus.Active: Set(EntitlementStatus.Active, null); break;
                case SubscriptionStatus.Trialing: Set(EntitlementStatus.Trialing, null); break;
                case SubscriptionStatus.PastDue or SubscriptionStatus.Unpaid: SuspendForPayment(failing ?? snapshot.At); break;
                case SubscriptionStatus.Paused: Set(EntitlementStatus.Suspended, AvailabilityReason.SubscriptionPaused); break;
                case SubscriptionStatus.Incomplete: Set(EntitlementStatus.Pending, AvailabilityReason.PaymentPending); break;
                case SubscriptionStatus.IncompleteExpired: Set(EntitlementStatus.Expired, AvailabilityReason.PaymentFailed); break;
                case SubscriptionStatus.Canceled:
                    // A canceled snapshot also records the end (see the lifecycle); kept for completeness.
                    Set(EntitlementStatus.Canceled, AvailabilityReason.SubscriptionCanceled);
                    GraceEndsAt = snapshot.At + TimeSpan.FromDays(GracePeriodDays);
                    break;
            }
        }
    }

    private static DateTimeOffset? FailingSince(SubscriptionFacts facts, DateTimeOffset? lastPaid)
    {
        // A payment in the same second as a failure counts as after it: a retry that succeeded.
        foreach (var failed in facts.FailedAt)
        {
            if (lastPaid is null || failed > lastPaid) return failed;
        }
        return null;
    }

    private void SuspendForPayment(DateTimeOffset failingSince)
    {
        Set(EntitlementStatus.Suspended, AvailabilityReason.PaymentFailed);
        if (PaymentFailureGraceDays > 0) GraceEndsAt = failingSince + TimeSpan.FromDays(PaymentFailureGraceDays);
    }

    private void Set(EntitlementStatus status, AvailabilityReason? reason) => (Status, Reason) = (status, reason);
}

namespace Licenzy.Domain.Entitlements;

/// <summary>Stripe's subscription statuses.</summary>
public enum SubscriptionStatus { Incomplete, Trialing, Active, Paused, PastDue, Unpaid, IncompleteExpired, Canceled }

/// <summary>The subscription object as one Stripe event showed it.</summary>
public sealed record SubscriptionSnapshot(DateTimeOffset At, SubscriptionStatus Status, DateTimeOffset? PeriodEnd);

/// <summary>
/// What Stripe has said about a subscription, kept as facts with Stripe's own timestamps. The
/// entitlement's status is computed from these, so the order the events came in cannot matter.
/// </summary>
public sealed class SubscriptionFacts
{
    /// <summary>How many failed payments are remembered (for the start of a payment-failure grace).</summary>
    public const int RememberedFailures = 50;

    /// <summary>The latest subscription object seen (ties broken by status, see <see cref="IsNewer"/>).</summary>
    public SubscriptionSnapshot? Snapshot { get; set; }

    /// <summary>When the latest successful payment happened (a paid invoice).</summary>
    public DateTimeOffset? LastPaidAt { get; set; }

    /// <summary>When payments failed, ascending.</summary>
    public List<DateTimeOffset> FailedAt { get; set; } = [];

    /// <summary>The furthest period end any event showed: periods only move forward.</summary>
    public DateTimeOffset? PeriodEnd { get; set; }

    /// <summary>When the subscription ended (deleted, or a canceled snapshot). Terminal.</summary>
    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>The earliest moment any event showed it usable (active, trialing, or paid).</summary>
    public DateTimeOffset? StartedAt { get; set; }

    public bool RecordStarted(DateTimeOffset at)
    {
        if (StartedAt is not null && StartedAt <= at) return false;
        StartedAt = at;
        return true;
    }

    public bool RecordSnapshot(SubscriptionSnapshot snapshot)
    {
        var changed = RecordPeriodEnd(snapshot.PeriodEnd);
        if (Snapshot is not null && !IsNewer(snapshot, Snapshot)) return changed;
        Snapshot = snapshot;
        return true;
    }

    public bool RecordPaid(DateTimeOffset at, DateTimeOffset? periodEnd)
    {
        var changed = RecordPeriodEnd(periodEnd);
        if (LastPaidAt is null || at > LastPaidAt)
        {
            LastPaidAt = at;
            changed = true;
        }
        return changed;
    }

    public bool RecordFailed(DateTimeOffset at)
    {
        if (FailedAt.Contains(at)) return false;
        FailedAt.Add(at);
        FailedAt.Sort();
        if (FailedAt.Count > RememberedFailures) FailedAt.RemoveAt(0);
        return true;
    }

    public bool RecordEnded(DateTimeOffset at)
    {
        // The earliest report of the end wins, so repeats and late copies agree.
        if (EndedAt is not null && EndedAt <= at) return false;
        EndedAt = at;
        return true;
    }

    private bool RecordPeriodEnd(DateTimeOffset? periodEnd)
    {
        if (periodEnd is null || (PeriodEnd is not null && PeriodEnd >= periodEnd)) return false;
        PeriodEnd = periodEnd;
        return true;
    }

    /// <summary>
    /// Later wins. Stripe's timestamps are whole seconds, so two snapshots can tie: then the status
    /// further along the subscription's life wins, then the later period end: a total order, so the
    /// choice is the same in any order of arrival.
    /// </summary>
    private static bool IsNewer(SubscriptionSnapshot candidate, SubscriptionSnapshot current) =>
        (candidate.At, candidate.Status, candidate.PeriodEnd ?? DateTimeOffset.MinValue)
            .CompareTo((current.At, current.Status, current.PeriodEnd ?? DateTimeOffset.MinValue)) > 0;
}

/// <summary>A dispute on one payment: opened, and perhaps closed won or lost.</summary>
public sealed class DisputeFact
{
    public required string DisputeId { get; init; }
    public string? PaymentIntentId { get; set; }
    public DateTimeOffset? OpenedAt { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    public bool? Won { get; set; }

    public bool IsOpen => Won is null;
}

/// <summary>A payment refunded in full.</summary>
public sealed record RefundFact(string PaymentIntentId, DateTimeOffset At);

using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Products;
using Licenzy.Domain.Subjects;

namespace Licenzy.Domain.Usage;

/// <summary>The outcome of spending units: either all of them were spent, or none.</summary>
public readonly record struct UsageOutcome(bool Consumed, long Units, long Remaining);

/// <summary>
/// Spends metered units from a subject's available usage packs, oldest pack first. Never spends
/// more than is left: a request that does not fit spends nothing.
/// </summary>
public static class UsageLedger
{
    public const long MaxUnitsPerRequest = 1_000_000_000;

    public static long Remaining(SubjectState state, DateTimeOffset now) =>
        SpendablePacks(state, now).Sum(pack => pack.UsageRemaining ?? 0);

    public static UsageOutcome Consume(SubjectState state, long units, DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(units, MaxUnitsPerRequest);

        var packs = SpendablePacks(state, now).ToList();
        var remaining = packs.Sum(pack => pack.UsageRemaining ?? 0);
        if (remaining < units) return new UsageOutcome(false, 0, remaining);

        var left = units;
        foreach (var pack in packs)
        {
            var take = Math.Min(left, pack.UsageRemaining ?? 0);
            pack.UsageConsumed += take;
            if (take > 0)
            {
                pack.LastConsumedAt = new[] { pack.LastConsumedAt, now }.Max();
                pack.UpdatedAt = new[] { pack.UpdatedAt, now }.Max();
            }
            left -= take;
        }
        state.Version++;
        return new UsageOutcome(true, units, remaining - units);
    }

    private static IEnumerable<Entitlement> SpendablePacks(SubjectState state, DateTimeOffset now) =>
        state.Entitlements
            .Where(e => e.Kind == ProductKind.UsagePack && e.Evaluate(now).Available)
            .OrderBy(e => e.StartsAt).ThenBy(e => e.Id, StringComparer.Ordinal);
}

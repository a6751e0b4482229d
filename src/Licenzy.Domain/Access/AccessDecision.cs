using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Subjects;

namespace Licenzy.Domain.Access;

/// <summary>
/// Whether a subject may use the product (or one feature of it) at an instant. Access is a
/// function of stored entitlement state and the clock, nothing else.
/// </summary>
public static class AccessDecision
{
    /// <summary>Allowed when at least one entitlement is available now and, if asked, lists the feature.</summary>
    public static bool IsAllowed(SubjectState? state, string? feature, DateTimeOffset now)
    {
        if (state is null) return false;
        foreach (var entitlement in state.Entitlements)
        {
            if (feature is not null && !entitlement.Features.Contains(feature)) continue;
            if (entitlement.Evaluate(now).Available) return true;
        }
        return false;
    }

    /// <summary>
    /// The customer view's status: "active" when anything is available, otherwise the status of
    /// the most recently changed entitlement, or "none" when there is none.
    /// </summary>
    public static CustomerStatus Summarise(SubjectState? state, DateTimeOffset now)
    {
        if (state is null || state.Entitlements.Count == 0) return new CustomerStatus(false, null);
        if (state.Entitlements.Any(e => e.Evaluate(now).Available)) return new CustomerStatus(true, EntitlementStatus.Active);
        // MaxBy keeps the first of equally recent entitlements, the one first in id order.
        var latest = state.Entitlements.MaxBy(e => e.UpdatedAt)!;
        return new CustomerStatus(false, latest.Evaluate(now).Status);
    }
}

/// <summary>A subject's access in one word; <see cref="Status"/> is null when it has no entitlements.</summary>
public readonly record struct CustomerStatus(bool HasAccess, EntitlementStatus? Status);

using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Subjects;

namespace Licenzy.Domain.Licenses;

/// <summary>
/// When licenses come into being: one per purchase of a license-issuing product, from the moment
/// that purchase is paid (its first grant of access). A purchase that is later refunded keeps its
/// license, revoked, so any order of the same events ends with the same licenses.
/// </summary>
public static class Licensing
{
    /// <summary>Adds the licenses that paid purchases lack; returns those added (their keys not yet issued).</summary>
    public static IReadOnlyList<License> Provision(SubjectState state)
    {
        List<License>? added = null;
        foreach (var entitlement in state.Entitlements)
        {
            if (!entitlement.IssueLicense) continue;
            foreach (var purchase in entitlement.Purchases)
            {
                if (purchase.State != PurchaseState.Paid) continue;
                var id = License.IdFor(entitlement.Id, purchase.CheckoutSessionId);
                if (state.FindLicense(id) is not null) continue;
                var license = new License { Id = id, EntitlementId = entitlement.Id, CheckoutSessionId = purchase.CheckoutSessionId };
                state.Licenses.Add(license);
                (added ??= []).Add(license);
            }
        }
        // Kept in id order, so the document is the same whichever purchase was paid first.
        if (added is not null) state.Licenses.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return added ?? (IReadOnlyList<License>)[];
    }
}

using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Products;
using Licenzy.Domain.Subjects;

namespace Licenzy.Domain.Billing;

/// <summary>
/// What each verified billing event does to a subject's entitlements: one case per event (the
/// lifecycle table of API.md). Every case is idempotent and commutes with the others, because
/// Stripe delivers at least once and in any order.
/// </summary>
public static class BillingLifecycle
{
    /// <summary>Applies <paramref name="billingEvent"/>; returns true when the state changed (and its version grew).</summary>
    public static bool Apply(SubjectState state, BillingEvent billingEvent)
    {
        if (state.AppliedEventIds.Contains(billingEvent.EventId)) return false;

        var changed = billingEvent switch
        {
            CheckoutCompleted e => RecordPayment(state, e, e.Payment switch
            {
                CheckoutPayment.Unpaid => PurchaseState.Pending,
                _ => PurchaseState.Paid,
            }, noPaymentRequired: e.Payment == CheckoutPayment.NoPaymentRequired),
            CheckoutAsyncPaymentSucceeded e => RecordPayment(state, e, PurchaseState.Paid, noPaymentRequired: false),
            CheckoutAsyncPaymentFailed e => RecordPayment(state, e, PurchaseState.Failed, noPaymentRequired: false),
            _ => throw new ArgumentOutOfRangeException(nameof(billingEvent), billingEvent.GetType().Name, "no lifecycle rule for this event"),
        };

        state.RememberEvent(billingEvent.EventId);
        if (changed) state.Version++;
        return changed;
    }

    private static bool RecordPayment(SubjectState state, CheckoutEvent e, PurchaseState reached, bool noPaymentRequired)
    {
        var entitlement = FindOrAdd(state, e);
        var purchase = entitlement.Purchases.Find(p => p.CheckoutSessionId == e.CheckoutSessionId);
        var changed = false;
        if (purchase is null)
        {
            purchase = new Purchase { CheckoutSessionId = e.CheckoutSessionId, State = PurchaseState.Pending };
            entitlement.Purchases.Add(purchase);
            changed = true;
        }
        if (e.PaymentIntentId is not null && purchase.PaymentIntentId != e.PaymentIntentId)
        {
            purchase.PaymentIntentId = e.PaymentIntentId;
            changed = true;
        }
        if (e.SubscriptionId is not null && entitlement.SubscriptionId is null)
        {
            entitlement.SubscriptionId = e.SubscriptionId;
            changed = true;
        }
        if (reached > purchase.State)
        {
            purchase.State = reached;
            purchase.PaidAt = reached == PurchaseState.Paid ? e.OccurredAt : null;
            purchase.NoPaymentRequired = noPaymentRequired;
            changed = true;
        }
        if (!changed) return false;

        Recompute(entitlement);
        Touch(entitlement, e.OccurredAt);
        return true;
    }

    /// <summary>
    /// Entitlements are anchored on their Stripe subscription, or for passes and packs on the
    /// product: a second pass extends the first and a second pack tops it up.
    /// </summary>
    private static Entitlement FindOrAdd(SubjectState state, CheckoutEvent e)
    {
        var anchor = e.Product.Kind == ProductKind.Subscription
            ? "subscription:" + (e.SubscriptionId ?? e.CheckoutSessionId)
            : "product:" + e.Product.Code;
        var id = Entitlement.IdFor(state.SubjectRef, anchor);
        var entitlement = state.Find(id);
        if (entitlement is null)
        {
            entitlement = Entitlement.For(state.SubjectRef, e.Product, anchor);
            state.Entitlements.Add(entitlement);
        }
        return entitlement;
    }

    /// <summary>
    /// Derives status, dates and units from the purchases, sorted by when they were paid, so the
    /// result does not depend on the order the events came in.
    /// </summary>
    private static void Recompute(Entitlement entitlement)
    {
        var paid = entitlement.Purchases
            .Where(p => p.State == PurchaseState.Paid)
            .OrderBy(p => p.PaidAt).ThenBy(p => p.CheckoutSessionId, StringComparer.Ordinal)
            .ToList();

        if (paid.Count == 0)
        {
            var pending = entitlement.Purchases.Any(p => p.State == PurchaseState.Pending);
            entitlement.Status = pending ? EntitlementStatus.Pending : EntitlementStatus.Expired;
            entitlement.Reason = pending ? AvailabilityReason.PaymentPending : AvailabilityReason.PaymentFailed;
            entitlement.StartsAt = null;
            entitlement.ExpiresAt = null;
            entitlement.UsageGranted = entitlement.Kind == ProductKind.UsagePack ? 0 : null;
            return;
        }

        entitlement.Reason = null;
        entitlement.StartsAt = paid[0].PaidAt;
        switch (entitlement.Kind)
        {
            case ProductKind.Subscription:
                entitlement.Status = paid[0].NoPaymentRequired ? EntitlementStatus.Trialing : EntitlementStatus.Active;
                break;
            case ProductKind.TimePass:
                entitlement.Status = EntitlementStatus.Active;
                entitlement.ExpiresAt = PassEnd(paid, TimeSpan.FromDays(entitlement.DurationDays ?? 0));
                break;
            case ProductKind.UsagePack:
                entitlement.Status = EntitlementStatus.Active;
                entitlement.UsageGranted = paid.Count * (entitlement.UsageUnits ?? 0);
                break;
        }
    }

    /// <summary>Each pass runs from the later of its payment and the end of the passes before it.</summary>
    private static DateTimeOffset PassEnd(IEnumerable<Purchase> paidInOrder, TimeSpan duration)
    {
        DateTimeOffset? end = null;
        foreach (var purchase in paidInOrder)
        {
            var start = end is { } previous && previous > purchase.PaidAt!.Value ? previous : purchase.PaidAt!.Value;
            end = start + duration;
        }
        return end!.Value;
    }

    private static void Touch(Entitlement entitlement, DateTimeOffset at)
    {
        if (at > entitlement.UpdatedAt) entitlement.UpdatedAt = at;
    }
}

using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Licenses;
using Licenzy.Domain.Products;
using Licenzy.Domain.Subjects;

namespace Licenzy.Domain.Billing;

/// <summary>
/// What each verified billing event does to a subject's entitlements: one case per event (the
/// lifecycle table of API.md). Each case only records a fact with Stripe's timestamp; the
/// entitlement then derives its status from all its facts (<see cref="Entitlement.Recompute"/>).
/// Recording is idempotent and commutes, because Stripe delivers at least once and in any order.
/// </summary>
public static class BillingLifecycle
{
    /// <summary>Applies <paramref name="billingEvent"/>; returns true when the state changed (and its version grew).</summary>
    public static bool Apply(SubjectState state, BillingEvent billingEvent)
    {
        if (state.AppliedEventIds.Contains(billingEvent.EventId)) return false;

        var entitlement = FindOrAdd(state, billingEvent, out var added);
        var changed = billingEvent switch
        {
            CheckoutCompleted e => RecordCheckout(entitlement, e, e.Payment switch
            {
                CheckoutPayment.Unpaid => PurchaseState.Pending,
                _ => PurchaseState.Paid,
            }, noPaymentRequired: e.Payment == CheckoutPayment.NoPaymentRequired),
            CheckoutAsyncPaymentSucceeded e => RecordCheckout(entitlement, e, PurchaseState.Paid, noPaymentRequired: false),
            CheckoutAsyncPaymentFailed e => RecordCheckout(entitlement, e, PurchaseState.Failed, noPaymentRequired: false),
            SubscriptionChanged e => RecordSubscription(entitlement, e),
            SubscriptionDeleted e => Facts(entitlement).RecordEnded(e.EndedAt ?? e.OccurredAt)
                | Facts(entitlement).RecordSnapshot(new SubscriptionSnapshot(e.OccurredAt, SubscriptionStatus.Canceled, e.PeriodEnd)),
            InvoicePaid e => Facts(entitlement).RecordPaid(e.OccurredAt, e.PeriodEnd) | Facts(entitlement).RecordStarted(e.OccurredAt),
            InvoicePaymentFailed e => Facts(entitlement).RecordFailed(e.OccurredAt),
            ChargeRefunded e => e.FullyRefunded && RecordRefund(entitlement, e.PaymentIntentId, e.OccurredAt),
            DisputeOpened e => RecordDispute(entitlement, e.DisputeId, e.PaymentIntentId, e.OccurredAt, won: null),
            DisputeClosed e => RecordDispute(entitlement, e.DisputeId, e.PaymentIntentId, e.OccurredAt, e.Won),
            _ => throw new ArgumentOutOfRangeException(nameof(billingEvent), billingEvent.GetType().Name, "no lifecycle rule for this event"),
        };

        state.RememberEvent(billingEvent.EventId);
        if (!changed)
        {
            // An event that adds no fact (a partial refund, say) leaves no empty entitlement behind.
            if (added) state.Entitlements.Remove(entitlement);
            return false;
        }

        entitlement.Recompute();
        Licensing.Provision(state);
        state.Version++;
        return true;
    }

    private static bool RecordCheckout(Entitlement entitlement, CheckoutEvent e, PurchaseState reached, bool noPaymentRequired)
    {
        var changed = false;
        var purchase = entitlement.Purchases.Find(p => p.CheckoutSessionId == e.CheckoutSessionId);
        if (purchase is null)
        {
            purchase = new Purchase { CheckoutSessionId = e.CheckoutSessionId, State = PurchaseState.Pending, At = e.OccurredAt };
            entitlement.Purchases.Add(purchase);
            entitlement.Purchases.Sort((a, b) => string.CompareOrdinal(a.CheckoutSessionId, b.CheckoutSessionId));
            changed = true;
        }
        if (e.PaymentIntentId is not null && purchase.PaymentIntentId != e.PaymentIntentId)
        {
            purchase.PaymentIntentId = e.PaymentIntentId;
            changed = true;
        }
        // Every event of one session carries the same customer details; should two ever differ, the
        // ordinally first is kept, so the outcome does not depend on which came first.
        if (e.CustomerEmail is not null && (purchase.Email is null || string.CompareOrdinal(e.CustomerEmail, purchase.Email) < 0))
        {
            purchase.Email = e.CustomerEmail;
            changed = true;
        }
        if (reached > purchase.State || (reached == purchase.State && EarlierReport(e.OccurredAt, noPaymentRequired, purchase)))
        {
            purchase.State = reached;
            purchase.At = e.OccurredAt;
            purchase.NoPaymentRequired = noPaymentRequired;
            changed = true;
        }
        if (reached == PurchaseState.Paid && entitlement.Kind == ProductKind.Subscription)
            changed |= Facts(entitlement).RecordStarted(e.OccurredAt);
        return changed;
    }

    /// <summary>
    /// The earliest report of a state wins, and in the same second a real payment outranks "nothing
    /// to pay": a total order, so copies agree whatever order they come in.
    /// </summary>
    private static bool EarlierReport(DateTimeOffset at, bool noPaymentRequired, Purchase purchase) =>
        at < purchase.At || (at == purchase.At && !noPaymentRequired && purchase.NoPaymentRequired);

    private static bool RecordSubscription(Entitlement entitlement, SubscriptionChanged e)
    {
        var facts = Facts(entitlement);
        var changed = facts.RecordSnapshot(new SubscriptionSnapshot(e.OccurredAt, e.Status, e.PeriodEnd));
        if (e.Status is SubscriptionStatus.Active or SubscriptionStatus.Trialing) changed |= facts.RecordStarted(e.OccurredAt);
        if (e.Status == SubscriptionStatus.Canceled) changed |= facts.RecordEnded(e.EndedAt ?? e.OccurredAt);
        return changed;
    }

    private static bool RecordRefund(Entitlement entitlement, string paymentIntentId, DateTimeOffset at)
    {
        var earlier = entitlement.Refunds.Find(r => r.PaymentIntentId == paymentIntentId);
        if (earlier is not null && earlier.At <= at) return false;
        if (earlier is not null) entitlement.Refunds.Remove(earlier);
        entitlement.Refunds.Add(new RefundFact(paymentIntentId, at));
        entitlement.Refunds.Sort((a, b) => string.CompareOrdinal(a.PaymentIntentId, b.PaymentIntentId));
        return true;
    }

    /// <summary>Opened carries its time; closed carries its outcome and time. Either may come first.</summary>
    private static bool RecordDispute(Entitlement entitlement, string disputeId, string paymentIntentId, DateTimeOffset at, bool? won)
    {
        var dispute = entitlement.Disputes.Find(d => d.DisputeId == disputeId);
        if (dispute is null)
        {
            // A new dispute always records something below: its opening or its outcome.
            dispute = new DisputeFact { DisputeId = disputeId, PaymentIntentId = paymentIntentId };
            entitlement.Disputes.Add(dispute);
            entitlement.Disputes.Sort((a, b) => string.CompareOrdinal(a.DisputeId, b.DisputeId));
        }
        if (won is null)
        {
            // The earliest report of the opening wins.
            if (dispute.OpenedAt <= at) return false;
            dispute.OpenedAt = at;
            return true;
        }
        // A dispute closes once; its outcome is final.
        if (dispute.Won is not null) return false;
        dispute.Won = won;
        dispute.ClosedAt = at;
        return true;
    }

    /// <summary>The id of the entitlement <paramref name="billingEvent"/> is about (whether it exists yet or not).</summary>
    public static string EntitlementIdOf(string subjectRef, BillingEvent billingEvent) => Entitlement.IdFor(subjectRef, AnchorOf(billingEvent));

    private static string AnchorOf(BillingEvent e) => e.Product.Kind == ProductKind.Subscription
        ? "subscription:" + (e.SubscriptionId ?? (e as CheckoutEvent)?.CheckoutSessionId
            ?? throw new ArgumentException($"{e.GetType().Name} for a subscription product needs a subscription id", nameof(e)))
        : "product:" + e.Product.Code;

    private static SubscriptionFacts Facts(Entitlement entitlement) => entitlement.Subscription ??= new SubscriptionFacts();

    /// <summary>
    /// Entitlements are anchored on their Stripe subscription, or for passes and packs on the
    /// product: a second pass extends the first and a second pack tops it up.
    /// </summary>
    private static Entitlement FindOrAdd(SubjectState state, BillingEvent e, out bool added)
    {
        var anchor = AnchorOf(e);
        var id = Entitlement.IdFor(state.SubjectRef, anchor);
        var entitlement = state.Find(id);
        added = entitlement is null;
        if (entitlement is null)
        {
            entitlement = Entitlement.For(state.SubjectRef, e.Product, anchor);
            entitlement.SubscriptionId = e.SubscriptionId;
            // Kept in id order, so the document is the same whichever event created which first.
            state.Entitlements.Add(entitlement);
            state.Entitlements.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        }
        else if (entitlement.SubscriptionId is null && e.SubscriptionId is not null)
        {
            entitlement.SubscriptionId = e.SubscriptionId;
        }
        return entitlement;
    }
}

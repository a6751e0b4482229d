using System.Globalization;
using Licenzy.Api.Http;
using Licenzy.Domain;
using Licenzy.Domain.Billing;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Products;
using Licenzy.Domain.Subjects;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Licenzy.Stripe;

namespace Licenzy.Api.Subjects;

/// <summary>
/// One change to a subject, as its history tells it (API.md): when it was applied, the version of
/// the document it made, where it came from, what kind of change it was, the Stripe event id where
/// there is one, and one line for people. Stored as it is shown.
/// </summary>
public sealed record HistoryEntry(DateTimeOffset At, long Version, string Source, string Type, string? EventId, string Summary);

/// <summary>A page of a subject's history: its entries, the last version it covers, and the subject's last version.</summary>
public sealed record HistoryPage(IReadOnlyList<HistoryEntry> Entries, long Through, long LastVersion)
{
    public bool HasMore => Through < LastVersion;
}

/// <summary>Where a change came from: <c>stripe</c>, <c>usage</c> or <c>setup</c>.</summary>
public static class HistorySources
{
    public const string Stripe = "stripe";
    public const string Usage = "usage";

    /// <summary>An operator's change through the setup API. No setup route changes a subject yet; kept for those that will.</summary>
    public const string Setup = "setup";
}

/// <summary>
/// A subject's history (decision 019): one entry per change, each under a key of its own named by
/// the version it made (<see cref="StateKeys.SubjectHistory"/>), written by the subject's writer in
/// the transaction of the change. A write adds one small insert and reads nothing; a read takes a
/// page of versions, so neither grows with the length of the history.
/// </summary>
public sealed class SubjectHistory(IStateStoreFactory stores, SubjectReader readers)
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 500;

    /// <summary>How many entries of a page are read from the store at once.</summary>
    private const int ReadsAtOnce = 16;

    private readonly IStateStore _state = stores.Get(Components.StateStore);

    /// <summary>
    /// The write that records <paramref name="entry"/>, made by the change that brought
    /// <paramref name="state"/> to <c>entry.Version</c>: add it to that change's transaction, before
    /// the document is serialised (it may mark where the history starts).
    /// </summary>
    public static StateOperation Record(SubjectKey subject, SubjectState state, HistoryEntry entry)
    {
        if (state.HistoryFrom == 0) state.HistoryFrom = entry.Version;
        // Unconditional: the document's ETag in the same transaction already makes each version's change one.
        return new StateOperation.Upsert(StateKeys.SubjectHistory(subject.TenantId, subject.Mode, subject.SubjectRef, entry.Version), entry);
    }

    /// <summary>The entry for a billing event that changed the subject.</summary>
    public static HistoryEntry ForBillingEvent(SubjectState after, BillingEvent billingEvent, string? stripeType, DateTimeOffset now)
    {
        var type = stripeType ?? StripeTypeOf(billingEvent);
        var entitlement = after.Find(BillingLifecycle.EntitlementIdOf(after.SubjectRef, billingEvent));
        return new HistoryEntry(now, after.Version, HistorySources.Stripe, type, billingEvent.EventId,
            $"{type}: {BillingSummary(billingEvent, entitlement, now)}");
    }

    /// <summary>The entry for units spent; <paramref name="after"/> is the document right after this one spend.</summary>
    public static HistoryEntry ForConsume(SubjectState after, long units, long remaining, DateTimeOffset now) =>
        new(now, after.Version, HistorySources.Usage, "usage.consumed", null,
            $"usage.consumed: {units} {(units == 1 ? "unit" : "units")} consumed, {remaining} left");

    /// <summary>
    /// Entries with versions after <paramref name="afterVersion"/>, oldest first, at most
    /// <paramref name="limit"/>; the page says up to which version it looked and the subject's last
    /// version, so a caller can tell whether more follow. An unknown subject has no entries.
    /// </summary>
    public async Task<HistoryPage> ReadAsync(SubjectKey subject, long afterVersion, int limit, CancellationToken ct)
    {
        var document = await readers.GetAsync(subject, ct);
        var lastVersion = document?.Version ?? 0;
        if (document is null || document.HistoryFrom == 0) return new HistoryPage([], lastVersion, lastVersion);
        var first = Math.Max(afterVersion + 1, document.HistoryFrom);
        var last = Math.Min(lastVersion, first + limit - 1);
        if (last < first) return new HistoryPage([], Math.Max(afterVersion, lastVersion), lastVersion);

        var found = new HistoryEntry?[last - first + 1];
        await Parallel.ForEachAsync(Enumerable.Range(0, found.Length), new ParallelOptions { MaxDegreeOfParallelism = ReadsAtOnce, CancellationToken = ct },
            async (i, token) =>
            {
                var key = StateKeys.SubjectHistory(subject.TenantId, subject.Mode, subject.SubjectRef, first + i);
                found[i] = (await _state.GetAsync<HistoryEntry>(key, token))?.Value;
            });
        return new HistoryPage([.. found.OfType<HistoryEntry>()], last, lastVersion);
    }

    private static string BillingSummary(BillingEvent billingEvent, Entitlement? entitlement, DateTimeOffset now)
    {
        var product = $"{billingEvent.Product.Code} ({Wire.Of(billingEvent.Product.Kind)})";
        var what = billingEvent switch
        {
            CheckoutCompleted { Payment: CheckoutPayment.Unpaid } => $"checkout of {product}, payment pending",
            CheckoutCompleted => $"bought {product}",
            CheckoutAsyncPaymentSucceeded => $"payment for {product} succeeded",
            CheckoutAsyncPaymentFailed => $"payment for {product} failed",
            SubscriptionChanged e => $"subscription {product} {Wire.Of(e.Status)}",
            SubscriptionDeleted => $"subscription {product} canceled",
            InvoicePaid => $"invoice paid for {product}",
            InvoicePaymentFailed => $"invoice payment failed for {product}",
            ChargeRefunded => $"payment for {product} refunded",
            DisputeOpened => $"payment for {product} disputed",
            DisputeClosed e => $"dispute on {product} {(e.Won ? "won" : "lost")}",
            _ => product,
        };
        return entitlement is null ? what : what + StandingOf(entitlement, now);
    }

    /// <summary>How the entitlement stands after the change, briefly: until when, units left, or why it is not available.</summary>
    private static string StandingOf(Entitlement entitlement, DateTimeOffset now)
    {
        var availability = entitlement.Evaluate(now);
        if (!availability.Available) return $"; now {Wire.Of(availability.Status)} ({Wire.Of(availability.Reason)})";
        if (availability.Reason == AvailabilityReason.InGracePeriod && entitlement.GraceEndsAt is { } graceEnd)
            return $"; in grace until {Day(graceEnd)}";
        if (entitlement.Kind == ProductKind.UsagePack) return $", {entitlement.UsageRemaining} of {entitlement.UsageGranted} units left";
        var trialing = availability.Status == EntitlementStatus.Trialing ? " trialing" : "";
        return entitlement.ExpiresAt is { } end ? $"{trialing} until {Day(end)}" : trialing;
    }

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The Stripe type, for a billing event that came without it; created and updated subscriptions read alike.</summary>
    private static string StripeTypeOf(BillingEvent billingEvent) => billingEvent switch
    {
        CheckoutCompleted => StripeEventTypes.CheckoutSessionCompleted,
        CheckoutAsyncPaymentSucceeded => StripeEventTypes.AsyncPaymentSucceeded,
        CheckoutAsyncPaymentFailed => StripeEventTypes.AsyncPaymentFailed,
        SubscriptionChanged => StripeEventTypes.SubscriptionUpdated,
        SubscriptionDeleted => StripeEventTypes.SubscriptionDeleted,
        InvoicePaid => StripeEventTypes.InvoicePaid,
        InvoicePaymentFailed => StripeEventTypes.InvoicePaymentFailed,
        ChargeRefunded => StripeEventTypes.ChargeRefunded,
        DisputeOpened => StripeEventTypes.ChargeDisputeCreated,
        DisputeClosed => StripeEventTypes.ChargeDisputeClosed,
        _ => billingEvent.GetType().Name,
    };
}

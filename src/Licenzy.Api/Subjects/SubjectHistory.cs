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
/// there is one, and one line for people. Stored more briefly, as a <see cref="SubjectChange"/>.
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
/// A subject's history (decision 019), written by the subject's writer in the transaction of each
/// change. The changes since the last full page are in the history's head, a small record kept
/// right after the subject's document in key order and rewritten with it; when a page fills it
/// moves, in that same transaction, to a key of its own named by its page number. A write reads
/// nothing where the writer keeps its document (else the head, once per turn) and writes one more
/// row once a page; a read takes the head and the pages its versions fall in.
/// </summary>
public sealed class SubjectHistory(IStateStoreFactory stores)
{
    /// <summary>Changes per page: small enough that a head of fewer stays within one page of the embedded store.</summary>
    public const int PageSize = 8;

    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;

    /// <summary>How many pages a read fetches from the store at once.</summary>
    private const int ReadsAtOnce = 8;

    private readonly IStateStore _state = stores.Get(Components.StateStore);

    /// <summary>The subject's stored head, for a writer that does not hold it yet; a new head when there is none.</summary>
    public async Task<SubjectHistoryHead> HeadAsync(SubjectKey subject, CancellationToken ct) =>
        (await _state.GetAsync<SubjectHistoryHead>(HeadKey(subject), ct))?.Value ?? new SubjectHistoryHead();

    /// <summary>
    /// Records <paramref name="change"/> on <paramref name="head"/>; when that fills the page, returns
    /// the write that keeps the page under its own key: add it to the change's transaction, and
    /// the head's (<see cref="WriteHead"/>) once all the turn's changes are recorded.
    /// </summary>
    public static StateOperation? Record(SubjectKey subject, SubjectHistoryHead head, SubjectChange change)
    {
        if (head.From == 0) head.From = change.Version;
        head.Last = change.Version;
        head.Changes.Add(change);
        if (head.Changes.Count < PageSize) return null;
        var page = head.Changes;
        head.Changes = [];
        // Unconditional, as the head's: the document's ETag in the same transaction already lets one change fill a page.
        return new StateOperation.Upsert(PageKey(subject, (page[0].Version - head.From) / PageSize), page);
    }

    public static StateOperation WriteHead(SubjectKey subject, SubjectHistoryHead head) => new StateOperation.Upsert(HeadKey(subject), head);

    /// <summary>The record of a billing event that changed the subject.</summary>
    public static SubjectChange ForBillingEvent(SubjectState after, BillingEvent billingEvent, string? stripeType, DateTimeOffset now)
    {
        var type = stripeType ?? StripeTypeOf(billingEvent);
        var entitlement = after.Find(BillingLifecycle.EntitlementIdOf(after.SubjectRef, billingEvent));
        return new SubjectChange
        {
            At = now, Version = after.Version, Source = HistorySources.Stripe, Type = type, EventId = billingEvent.EventId,
            Summary = $"{type}: {BillingSummary(billingEvent, entitlement, now)}",
        };
    }

    /// <summary>The record of units spent; <paramref name="after"/> is the document right after this one spend.</summary>
    public static SubjectChange ForConsume(SubjectState after, long units, long remaining, DateTimeOffset now) =>
        new() { At = now, Version = after.Version, Units = units, Remaining = remaining };

    /// <summary>A stored record as API.md shows it.</summary>
    public static HistoryEntry Show(SubjectChange change) => change.Units is { } units
        ? new HistoryEntry(change.At, change.Version, HistorySources.Usage, UsageConsumed, null,
            $"{UsageConsumed}: {units} {(units == 1 ? "unit" : "units")} consumed, {change.Remaining} left")
        : new HistoryEntry(change.At, change.Version, change.Source ?? HistorySources.Stripe, change.Type ?? "", change.EventId, change.Summary ?? "");

    private const string UsageConsumed = "usage.consumed";

    /// <summary>
    /// Entries with versions after <paramref name="afterVersion"/>, oldest first, at most
    /// <paramref name="limit"/>; the page says up to which version it looked and the last version
    /// recorded, so a caller can tell whether more follow. An unknown subject has no entries.
    /// </summary>
    public async Task<HistoryPage> ReadAsync(SubjectKey subject, long afterVersion, int limit, CancellationToken ct)
    {
        var head = (await _state.GetAsync<SubjectHistoryHead>(HeadKey(subject), ct))?.Value;
        if (head is null || head.From == 0) return new HistoryPage([], 0, 0);
        var first = Math.Max(afterVersion + 1, head.From);
        var last = Math.Min(head.Last, first + limit - 1);
        if (last < first) return new HistoryPage([], Math.Max(afterVersion, head.Last), head.Last);

        // Versions before the head's changes are on full pages, written no later than this head; a page never changes.
        var current = head.Changes.Count > 0 ? head.Changes[0].Version : head.Last + 1;
        var changes = new List<SubjectChange>();
        if (first < current)
        {
            var firstPage = (first - head.From) / PageSize;
            var lastPage = (Math.Min(last, current - 1) - head.From) / PageSize;
            var pages = new List<SubjectChange>?[lastPage - firstPage + 1];
            await Parallel.ForEachAsync(Enumerable.Range(0, pages.Length), new ParallelOptions { MaxDegreeOfParallelism = ReadsAtOnce, CancellationToken = ct },
                async (i, token) => pages[i] = (await _state.GetAsync<List<SubjectChange>>(PageKey(subject, firstPage + i), token))?.Value);
            foreach (var page in pages) changes.AddRange(page ?? []);
        }
        changes.AddRange(head.Changes);
        return new HistoryPage([.. changes.Where(c => c.Version >= first && c.Version <= last).Select(Show)], last, head.Last);
    }

    private static string HeadKey(SubjectKey subject) => StateKeys.SubjectHistoryHead(subject.TenantId, subject.Mode, subject.SubjectRef);

    private static string PageKey(SubjectKey subject, long page) => StateKeys.SubjectHistoryPage(subject.TenantId, subject.Mode, subject.SubjectRef, page);

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

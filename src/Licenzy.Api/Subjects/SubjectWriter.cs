using Licenzy.Api.Idempotency;
using Licenzy.Api.Licenses;
using Licenzy.Api.Usage;
using Licenzy.Api.Webhooks;
using Licenzy.Domain;
using Licenzy.Domain.Billing;
using Licenzy.Domain.Licenses;
using Licenzy.Domain.Subjects;
using Licenzy.Domain.Usage;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Subjects;

/// <summary>
/// The only writer of a subject's document: what <see cref="ISubjectActor"/>'s turns do. The actor
/// binding runs one turn at a time per subject, so every change (a billing event, a consumption) is
/// read, decided and written whole, with an ETag check as a second guard. Where it is the only
/// writer (<see cref="SubjectMemory"/>) it keeps the document it wrote and starts the next turn
/// from it, and spends a new idempotency key without looking it up first: the insert refuses a key
/// that exists, and the turn is then taken again from the store.
/// </summary>
public sealed class SubjectWriter(IStateStoreFactory stores, SubjectReader readers, SubjectMemory memory, LicenseKeys licenseKeys,
    WebhookEndpoints endpoints, OutboundMessages outbound, SubjectHistory history, TimeProvider clock, ILogger<SubjectWriter> log)
{
    private readonly IStateStore _state = stores.Get(Components.StateStore);

    /// <summary>Applies one billing event to the subject, once: a repeat of an event it has seen changes nothing.</summary>
    public async Task<ApplyResult> ApplyAsync(SubjectKey subject, ApplyBillingEvent request, CancellationToken ct)
    {
        while (true)
        {
            var now = clock.GetUtcNow();
            var stored = await LoadAsync(subject, ct);
            var state = stored?.Value ?? SubjectState.Empty(subject.SubjectRef);
            var licensesBefore = ChangeMessages.LicensesBefore(state, now);
            var noticedBefore = ChangeMessages.NoticedBefore(state, now);
            // Not kept when unchanged: Apply may still have noted the event id in the copy.
            if (!BillingLifecycle.Apply(state, request.Event)) return new ApplyResult(false, state.Version);

            // Not kept either when written: billing events come a few times in a subject's life, and
            // keeping every buyer's document made memory grow with the number of buyers.
            var writes = new List<StateOperation>(4) { Document(subject, state, stored) };
            var head = state.History ??= await history.HeadAsync(subject, ct);
            if (SubjectHistory.Record(subject, head, SubjectHistory.ForBillingEvent(state, request.Event, request.Type, now)) is { } page)
                writes.Add(page);
            writes.Add(SubjectHistory.WriteHead(subject, head));
            var issued = IssueLicenseKeys(subject, state, writes);
            var messages = await TellAsync(subject, state, licensesBefore, noticedBefore, issued, now, writes, ct);
            if (await TryWriteAsync(subject, writes, state, keep: false, ct))
            {
                if (messages is not null) outbound.Committed(messages);
                log.LogInformation("Applied {EventType} {EventId} to a subject of tenant {TenantId} ({Mode}); version {Version}",
                    request.Event.GetType().Name, request.Event.EventId, subject.TenantId, subject.Mode, state.Version);
                return new ApplyResult(true, state.Version);
            }
        }
    }

    /// <summary>Spends units for each request of the batch, in order, each once per idempotency key.</summary>
    public async Task<ConsumeBatchResult> ConsumeAsync(SubjectKey subject, ConsumeBatch batch, CancellationToken ct)
    {
        // Kept document, unseen keys: no read at all. After a refused write, everything is read.
        var assumeNewKeys = memory.IsOn;
        while (true)
        {
            var now = clock.GetUtcNow();
            var stored = await LoadAsync(subject, ct);
            var state = stored?.Value ?? SubjectState.Empty(subject.SubjectRef);
            var licensesBefore = ChangeMessages.LicensesBefore(state, now);
            var noticedBefore = ChangeMessages.NoticedBefore(state, now);
            var results = new List<ConsumeResult>(batch.Requests.Count);
            var writes = new List<StateOperation>(batch.Requests.Count + 1);
            // Keys answered earlier in this batch: a repeat is a replay (or a reuse), as in a later turn.
            var answered = new Dictionary<string, IdempotentResponse>(StringComparer.Ordinal);
            var consumed = false;

            foreach (var request in batch.Requests)
            {
                var idempotencyKey = StateKeys.Idempotency(subject.TenantId, subject.Mode, "usage", request.IdempotencyKey);
                if (answered.TryGetValue(idempotencyKey, out var answer))
                {
                    results.Add(Repeat(answer, request));
                    continue;
                }
                var earlier = assumeNewKeys ? null : await _state.GetAsync<IdempotentResponse>(idempotencyKey, ct);
                if (earlier is not null && earlier.Value.IsCurrent(now))
                {
                    answered[idempotencyKey] = earlier.Value;
                    results.Add(Repeat(earlier.Value, request));
                    continue;
                }

                var outcome = UsageLedger.Consume(state, request.Units, now);
                var response = UsageResponses.For(outcome, request.Units, request.RequestHash, now);
                writes.Add(response.RecordAs(idempotencyKey, earlier));
                if (outcome.Consumed)
                {
                    // Each spend is its own change, with its own version, even when a batch writes several at once.
                    var head = state.History ??= await history.HeadAsync(subject, ct);
                    if (SubjectHistory.Record(subject, head, SubjectHistory.ForConsume(state, outcome.Units, outcome.Remaining, now)) is { } page)
                        writes.Add(page);
                }
                answered[idempotencyKey] = response;
                results.Add(new ConsumeResult(response, Replayed: false, KeyReused: false));
                consumed |= outcome.Consumed;
            }

            // A consume that does not fit spends nothing, so an unspent document is unchanged and may be kept.
            if (writes.Count == 0)
            {
                if (stored is not null) memory.Keep(stored);
                return new ConsumeBatchResult(results);
            }
            List<OutboundMessage>? messages = null;
            if (consumed)
            {
                writes.Add(Document(subject, state, stored));
                writes.Add(SubjectHistory.WriteHead(subject, state.History!));
                messages = await TellAsync(subject, state, licensesBefore, noticedBefore, NoKeysIssued, now, writes, ct);
            }

            if (await TryWriteAsync(subject, writes, consumed ? state : null, keep: true, ct))
            {
                if (messages is not null) outbound.Committed(messages);
                if (!consumed && stored is not null) memory.Keep(stored);
                return new ConsumeBatchResult(results);
            }
            assumeNewKeys = false;
        }
    }

    /// <summary>
    /// Gives each license the change provisioned its key, and indexes it by key hash and by id in
    /// the same transaction, so a committed license can always be found. A write that loses its
    /// race is taken again from the store, and makes new keys then: none of these was ever shown.
    /// </summary>
    private Dictionary<string, string>? IssueLicenseKeys(SubjectKey subject, SubjectState state, List<StateOperation> writes)
    {
        Dictionary<string, string>? keys = null;
        foreach (var license in state.Licenses)
        {
            if (license.HasKey) continue;
            var issued = licenseKeys.Issue();
            (keys ??= new(StringComparer.Ordinal))[license.Id] = issued.Key;
            license.KeyHash = issued.Hash;
            license.ProtectedKey = issued.ProtectedKey;
            var holder = new LicenseHolder(subject.SubjectRef, license.Id);
            writes.Add(new StateOperation.Upsert(StateKeys.LicenseByKeyHash(subject.TenantId, subject.Mode, issued.Hash), holder, MustNotExist: true));
            writes.Add(new StateOperation.Upsert(StateKeys.License(subject.TenantId, subject.Mode, license.Id), holder, MustNotExist: true));
        }
        return keys;
    }

    private static readonly IReadOnlyDictionary<string, string> NoKeysIssued = new Dictionary<string, string>();

    /// <summary>
    /// Adds to <paramref name="writes"/> a message for each event type the tenant's endpoints want
    /// about this change, so each is committed with it (API.md: no committed change goes untold);
    /// null when no endpoint of the tenant and mode wants any. The endpoints are read at each change:
    /// an endpoint created while a change is being written may miss that one change.
    /// </summary>
    private async Task<List<OutboundMessage>?> TellAsync(SubjectKey subject, SubjectState after,
        Dictionary<string, LicenseState>? licensesBefore, HashSet<(string LicenseId, DateTimeOffset At)>? noticedBefore,
        IReadOnlyDictionary<string, string>? issuedKeys, DateTimeOffset now,
        List<StateOperation> writes, CancellationToken ct)
    {
        var listening = await endpoints.ListAsync(subject.TenantId, subject.Mode, ct);
        if (listening.Count == 0) return null;
        var messages = new List<OutboundMessage>();
        foreach (var change in ChangeMessages.For(after, licensesBefore, issuedKeys ?? NoKeysIssued, licenseKeys, now,
            type => listening.Any(endpoint => endpoint.Wants(type))))
        {
            var (message, write) = outbound.Enqueue(subject.TenantId, subject.Mode, change.Type, change.Data);
            writes.Add(write);
            messages.Add(message);
        }
        if (listening.Any(endpoint => endpoint.Wants(WebhookEventTypes.LicenseUpdated)))
        {
            foreach (var (notice, at, licenseId) in ChangeMessages.Notices(after, noticedBefore, issuedKeys ?? NoKeysIssued, licenseKeys, now))
            {
                var (message, write) = outbound.Notice(subject.TenantId, subject.Mode, notice.Type, notice.Data, at, after.SubjectRef, licenseId);
                writes.Add(write);
                messages.Add(message);
            }
        }
        if (messages.Count == 0) return null;
        // Registered before the commit, so that a process dying right after it leaves the messages found.
        await outbound.BeforeCommitAsync(messages, ct);
        return messages;
    }

    /// <summary>The kept document when there is one, else the stored one.</summary>
    private async Task<StateEntry<SubjectState>?> LoadAsync(SubjectKey subject, CancellationToken ct) =>
        memory.Take(subject.StateKey) ?? await _state.GetAsync<SubjectState>(subject.StateKey, ct);

    private static StateOperation.Upsert Document(SubjectKey subject, SubjectState state, StateEntry<SubjectState>? stored) =>
        new(subject.StateKey, state, stored?.ETag, MustNotExist: stored is null);

    /// <summary>
    /// Writes in one transaction; with <paramref name="document"/> (the new subject document, among
    /// the writes) the readers' cache is bracketed, and once committed the document is kept when
    /// <paramref name="keep"/> says so.
    /// </summary>
    private async Task<bool> TryWriteAsync(SubjectKey subject, List<StateOperation> writes, SubjectState? document, bool keep,
        CancellationToken ct)
    {
        IReadOnlyDictionary<string, string>? etags;
        using (document is not null ? readers.Writing(subject) : null)
        {
            etags = await _state.TryTransactReturningETagsAsync(writes, ct);
            if (etags is not null && document is not null) readers.Committed(subject, document);
        }
        if (etags is null) return false;
        if (keep && document is not null && etags.TryGetValue(subject.StateKey, out var etag))
            memory.Keep(new StateEntry<SubjectState>(subject.StateKey, document, etag));
        return true;
    }

    private static ConsumeResult Repeat(IdempotentResponse earlier, ConsumeUnits request) =>
        earlier.RequestHash == request.RequestHash
            ? new ConsumeResult(earlier, Replayed: true, KeyReused: false)
            : new ConsumeResult(earlier, Replayed: false, KeyReused: true);
}

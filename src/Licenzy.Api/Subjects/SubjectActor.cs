using System.Text.Json;
using Licenzy.Api.Idempotency;
using Licenzy.Api.Usage;
using Licenzy.Domain;
using Licenzy.Domain.Billing;
using Licenzy.Domain.Subjects;
using Licenzy.Domain.Usage;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.Actors;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Subjects;

/// <summary>Asks the subject actor to apply one billing event.</summary>
public sealed record ApplyBillingEvent(BillingEvent Event);

public sealed record ApplyResult(bool Changed, long Version);

/// <summary>One request to spend units, once per idempotency key.</summary>
public sealed record ConsumeUnits(long Units, string IdempotencyKey, string RequestHash);

public sealed record ConsumeResult(IdempotentResponse Response, bool Replayed, bool KeyReused);

/// <summary>
/// Asks the subject actor to spend units for several requests in one turn, in order, as if each
/// had its own turn: one read of the document and one write for all of them.
/// </summary>
public sealed record ConsumeBatch(List<ConsumeUnits> Requests);

/// <summary>The results, in the order of the requests.</summary>
public sealed record ConsumeBatchResult(List<ConsumeResult> Results);

/// <summary>
/// The only writer of a subject's document. The actor binding runs one turn at a time per
/// subject, so every change (a billing event, a consumption) is read, decided and written whole,
/// with an ETag check as a second guard. Where it is the only writer (<see cref="SubjectMemory"/>)
/// it keeps the document it wrote and starts the next turn from it, and spends a new idempotency
/// key without looking it up first: the insert refuses a key that exists, and the turn is then
/// taken again from the store.
/// </summary>
public sealed class SubjectActor(IStateStoreFactory stores, SubjectReader readers, SubjectMemory memory, TimeProvider clock,
    ILogger<SubjectActor> log) : IObjectActor
{
    public const string ActorType = "SubjectActor";
    public const string ApplyMethod = "apply";
    public const string ConsumeMethod = "consume";

    private readonly IStateStore _state = stores.Get(Components.StateStore);

    public async Task<JsonElement> InvokeAsync(string actorId, string method, JsonElement request, CancellationToken cancellationToken)
    {
        object typed = method switch
        {
            ApplyMethod => request.Deserialize<ApplyBillingEvent>(LicenzyJson.Options)!,
            ConsumeMethod => request.Deserialize<ConsumeBatch>(LicenzyJson.Options)!,
            _ => throw new ArgumentException($"SubjectActor has no method '{method}'", nameof(method)),
        };
        var result = await InvokeAsync(actorId, method, typed, cancellationToken);
        return JsonSerializer.SerializeToElement(result, result.GetType(), LicenzyJson.Options);
    }

    public async Task<object> InvokeAsync(string actorId, string method, object request, CancellationToken cancellationToken)
    {
        var subject = SubjectKey.FromActorId(actorId);
        return (method, request) switch
        {
            (ApplyMethod, ApplyBillingEvent apply) => await ApplyAsync(subject, apply, cancellationToken),
            (ConsumeMethod, ConsumeBatch batch) => await ConsumeAsync(subject, batch, cancellationToken),
            _ => throw new ArgumentException($"SubjectActor has no method '{method}' taking {request.GetType().Name}", nameof(method)),
        };
    }

    private async Task<ApplyResult> ApplyAsync(SubjectKey subject, ApplyBillingEvent request, CancellationToken ct)
    {
        while (true)
        {
            var stored = await LoadAsync(subject, ct);
            var state = stored?.Value ?? SubjectState.Empty(subject.SubjectRef);
            // Not kept when unchanged: Apply may still have noted the event id in the copy.
            if (!BillingLifecycle.Apply(state, request.Event)) return new ApplyResult(false, state.Version);

            // Not kept either when written: billing events come a few times in a subject's life, and
            // keeping every buyer's document made memory grow with the number of buyers.
            if (await TryWriteAsync(subject, [Document(subject, state, stored)], state, keep: false, ct))
            {
                log.LogInformation("Applied {EventType} {EventId} to a subject of tenant {TenantId} ({Mode}); version {Version}",
                    request.Event.GetType().Name, request.Event.EventId, subject.TenantId, subject.Mode, state.Version);
                return new ApplyResult(true, state.Version);
            }
        }
    }

    private async Task<ConsumeBatchResult> ConsumeAsync(SubjectKey subject, ConsumeBatch batch, CancellationToken ct)
    {
        // Kept document, unseen keys: no read at all. After a refused write, everything is read.
        var assumeNewKeys = memory.IsOn;
        while (true)
        {
            var now = clock.GetUtcNow();
            var stored = await LoadAsync(subject, ct);
            var state = stored?.Value ?? SubjectState.Empty(subject.SubjectRef);
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
            if (consumed) writes.Add(Document(subject, state, stored));

            if (await TryWriteAsync(subject, writes, consumed ? state : null, keep: true, ct))
            {
                if (!consumed && stored is not null) memory.Keep(stored);
                return new ConsumeBatchResult(results);
            }
            assumeNewKeys = false;
        }
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

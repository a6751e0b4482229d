using Licenzy.Api.Reads;
using Licenzy.Domain.Access;
using Licenzy.Domain.Subjects;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Subjects;

/// <summary>
/// Reads a subject's document; readers never wait on the actor. Through the read cache when it is
/// on: the actor brackets every write with <see cref="Writing"/>, so a cached document is never
/// older than the last change this process applied.
/// </summary>
public sealed class SubjectReader(IStateStoreFactory stores, ReadCaches caches, AccessIndex index)
{
    private readonly IStateStore _state = stores.Get(Components.StateStore);

    /// <summary>
    /// Whether the subject may use the product (or <paramref name="feature"/>) at <paramref name="now"/>,
    /// and its version: from the access index when it can tell, else from the document.
    /// </summary>
    public ValueTask<(bool Allowed, long Version)> CheckAsync(SubjectKey subject, string? feature, DateTimeOffset now, CancellationToken ct)
    {
        // A method, not a capturing async local function, whose closure could cost an allocation per check, hits included.
        return index.TryCheck(subject, feature, now, out var allowed, out var version)
            ? ValueTask.FromResult((allowed, version))
            : CheckDocumentAsync(subject, feature, now, ct);
    }

    private async ValueTask<(bool Allowed, long Version)> CheckDocumentAsync(SubjectKey subject, string? feature, DateTimeOffset now, CancellationToken ct)
    {
        var state = await GetAsync(subject, ct);
        return (AccessDecision.IsAllowed(state, feature, now), state?.Version ?? 0);
    }

    /// <summary>The document, shared with other readers: do not change it.</summary>
    public async ValueTask<SubjectState?> GetAsync(SubjectKey subject, CancellationToken ct) =>
        caches.Subjects is { } cache
            ? await cache.GetAsync(subject.StateKey, LoadAsync, ct)
            : await LoadAsync(subject.StateKey, ct);

    /// <summary>Wrap each write of the subject's document; dispose once it is committed or has failed.</summary>
    public IDisposable? Writing(SubjectKey subject) => caches.Subjects?.BeginWrite(subject.StateKey);

    /// <summary>Call once a write of the subject's document has committed, before disposing <see cref="Writing"/>'s scope.</summary>
    public void Committed(SubjectKey subject, SubjectState state) => index.Record(subject, state);

    private async Task<SubjectState?> LoadAsync(string key, CancellationToken ct) =>
        (await _state.GetAsync<SubjectState>(key, ct))?.Value;
}

using System.Collections.Concurrent;
using Licenzy.Api.Reads;
using Licenzy.Domain.Subjects;
using Licenzy.Infrastructure.State;
using Microsoft.Extensions.Options;

namespace Licenzy.Api.Subjects;

/// <summary>
/// The subject actor's own copy of each document it last wrote in a consume turn, with the ETag
/// the store gave it, so that the next turn starts without reading the store. (Billing events are
/// few per subject: their turns take a kept copy but do not keep one.) A turn takes the entry out and puts
/// back only what it committed; a turn that fails, or changes the document without writing it,
/// leaves nothing behind, and the next turn reads the store. On only where the read caches are
/// (the embedded binding): there this process's actor is the document's one writer, and its
/// ETag check still refuses a write made from a copy that someone else's write made stale.
/// </summary>
public sealed class SubjectMemory
{
    private readonly ConcurrentDictionary<string, StateEntry<SubjectState>> _documents = new(StringComparer.Ordinal);
    private readonly int _capacity;
    private int _kept;

    public SubjectMemory(ReadCaches caches, IOptions<ApiOptions> options)
    {
        IsOn = caches.Subjects is not null;
        _capacity = options.Value.ReadCacheCapacity;
    }

    /// <summary>Whether this process's actor is the only writer, and so keeps documents.</summary>
    public bool IsOn { get; }

    /// <summary>The kept document, removed: only the subject's turn calls this, and it owns the copy now.</summary>
    public StateEntry<SubjectState>? Take(string stateKey) =>
        IsOn && _documents.TryRemove(stateKey, out var entry) ? entry : null;

    /// <summary>Keeps what the turn has just committed (or read and left unchanged).</summary>
    public void Keep(StateEntry<SubjectState> committed)
    {
        if (!IsOn) return;
        _documents[committed.Key] = committed;
        if (Interlocked.Increment(ref _kept) % 1024 == 0) _documents.TrimTo(_capacity);
    }
}

namespace Licenzy.Infrastructure.State;

/// <summary>
/// A key/value state store with optimistic concurrency. Values are JSON documents; an ETag is an
/// opaque version token returned by reads and checked by writes (Dapr "first-write" semantics).
/// </summary>
public interface IStateStore
{
    /// <summary>Reads a value, or null when the key does not exist.</summary>
    Task<StateEntry<T>?> GetAsync<T>(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a value. With <paramref name="etag"/> null the key must not exist yet; otherwise the
    /// stored ETag must equal it. Returns false on a concurrency conflict (nothing written).
    /// </summary>
    Task<bool> TrySaveAsync<T>(string key, T value, string? etag, CancellationToken cancellationToken = default);

    /// <summary>Writes a value unconditionally (last write wins).</summary>
    Task SaveAsync<T>(string key, T value, CancellationToken cancellationToken = default);

    /// <summary>Deletes a key; with an ETag only when it still matches. Returns false on a conflict.</summary>
    Task<bool> TryDeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies all operations atomically, or none of them. Returns false when any operation's
    /// concurrency check fails (nothing written).
    /// </summary>
    Task<bool> TryTransactAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="TryTransactAsync"/>, also telling the ETag each upserted key has now, so that a
    /// key's only writer can keep what it wrote and write again without reading it back. Null on
    /// a conflict. Keys whose ETag the store cannot tell are missing: Dapr's transaction API
    /// returns none, and an unconditional upsert's version is not known without a read.
    /// </summary>
    Task<IReadOnlyDictionary<string, string>?> TryTransactReturningETagsAsync(IReadOnlyList<StateOperation> operations,
        CancellationToken cancellationToken = default);
}

/// <summary>A stored value with its version token.</summary>
public sealed record StateEntry<T>(string Key, T Value, string ETag);

/// <summary>One write in a transaction.</summary>
public abstract record StateOperation(string Key)
{
    /// <summary>
    /// Upsert. <see cref="ETag"/> null with <see cref="MustNotExist"/> true means "insert only";
    /// null with false means unconditional; a value means "only if unchanged". With
    /// <see cref="TimeToLive"/> the store forgets the value once that much time has passed since
    /// this write (Dapr's <c>ttlInSeconds</c>): reads no longer see it and "insert only" may write
    /// the key again. Without it the value stays until deleted.
    /// </summary>
    public sealed record Upsert(string Key, object Value, string? ETag = null, bool MustNotExist = false, TimeSpan? TimeToLive = null)
        : StateOperation(Key);

    public sealed record Delete(string Key, string? ETag = null) : StateOperation(Key);
}

/// <summary>Hands out the state stores by component name.</summary>
public interface IStateStoreFactory
{
    /// <summary>
    /// The store named <paramref name="storeName"/>: one of the names in <see cref="Components"/>.
    /// Any other name throws <see cref="ArgumentException"/>, as Dapr refuses an unknown component.
    /// </summary>
    IStateStore Get(string storeName);
}

/// <summary>
/// Reads every value whose key starts with a prefix, in key order, a page at a time: for building
/// an in-process view of a whole store at start. Only the embedded store offers it (Dapr's query
/// API is not one every state store supports).
/// </summary>
public interface IStateScanner
{
    /// <summary>
    /// The raw JSON of each matching row, in pages of at most <paramref name="pageSize"/>. Each
    /// page is its own read, so rows written meanwhile may or may not be seen.
    /// </summary>
    IAsyncEnumerable<IReadOnlyList<(string Key, string Json)>> ScanAsync(string keyPrefix, int pageSize,
        CancellationToken cancellationToken = default);
}

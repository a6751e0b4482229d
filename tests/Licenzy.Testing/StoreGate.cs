using Licenzy.Infrastructure.State;

namespace Licenzy.Testing;

/// <summary>
/// A seam in one replica's state store, to stop the replica in the middle of a turn: armed for a
/// key, the next transaction that writes it is held (before it reaches the sidecar, or after the
/// sidecar committed it) until the replica is stopped, when it fails as if the process had died there.
/// </summary>
public sealed class StoreGate
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _killed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _key;
    private bool _afterCommit;

    /// <summary>Completes when a transaction is held at the gate.</summary>
    public Task Reached => _reached.Task;

    /// <summary>Holds the next transaction that writes <paramref name="key"/>, before or after it commits.</summary>
    public void Arm(string key, bool afterCommit)
    {
        _afterCommit = afterCommit;
        Volatile.Write(ref _key, key);
    }

    internal void Kill() => _killed.TrySetException(new HttpRequestException("the replica was stopped mid-turn (test)"));

    internal IStateStoreFactory Wrap(IStateStoreFactory inner) => new Stores(inner, this);

    /// <summary>True when this transaction is the armed one (only one ever is).</summary>
    private bool Takes(IReadOnlyList<StateOperation> operations)
    {
        var key = Volatile.Read(ref _key);
        return key is not null && operations.Any(o => o.Key == key) && Interlocked.CompareExchange(ref _key, null, key) == key;
    }

    private async Task<T> HoldAsync<T>(IReadOnlyList<StateOperation> operations, Func<Task<T>> commit)
    {
        if (!Takes(operations)) return await commit();
        if (!_afterCommit)
        {
            _reached.TrySetResult();
            await _killed.Task;
        }
        var result = await commit();
        _reached.TrySetResult();
        await _killed.Task;
        return result;
    }

    private sealed class Stores(IStateStoreFactory inner, StoreGate gate) : IStateStoreFactory
    {
        public IStateStore Get(string storeName) => new Store(inner.Get(storeName), gate);
    }

    private sealed class Store(IStateStore inner, StoreGate gate) : IStateStore
    {
        public Task<StateEntry<T>?> GetAsync<T>(string key, CancellationToken cancellationToken = default) => inner.GetAsync<T>(key, cancellationToken);

        public Task<bool> TrySaveAsync<T>(string key, T value, string? etag, CancellationToken cancellationToken = default) =>
            inner.TrySaveAsync(key, value, etag, cancellationToken);

        public Task SaveAsync<T>(string key, T value, CancellationToken cancellationToken = default) => inner.SaveAsync(key, value, cancellationToken);

        public Task<bool> TryDeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default) =>
            inner.TryDeleteAsync(key, etag, cancellationToken);

        public Task<bool> TryTransactAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default) =>
            gate.HoldAsync(operations, () => inner.TryTransactAsync(operations, cancellationToken));

        public Task<IReadOnlyDictionary<string, string>?> TryTransactReturningETagsAsync(IReadOnlyList<StateOperation> operations,
            CancellationToken cancellationToken = default) =>
            gate.HoldAsync(operations, () => inner.TryTransactReturningETagsAsync(operations, cancellationToken));
    }
}

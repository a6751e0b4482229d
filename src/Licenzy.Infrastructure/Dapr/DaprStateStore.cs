using System.Globalization;
using System.Text.Json;
using DaprException = Dapr.DaprException;
using Dapr.Client;
using Grpc.Core;
using Licenzy.Infrastructure.State;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>
/// A state store through the sidecar, with the Dapr SDK's <see cref="DaprClient"/> (gRPC). Reads are
/// strongly consistent and come with their ETag. "Insert only" is a first-write save with no ETag,
/// which Dapr's state stores refuse when the key exists; "only if unchanged" sends the ETag. Either
/// refusal is a conflict (false), not an error. Each call is bounded by
/// <see cref="DaprOptions.CallTimeout"/>: the SDK sets no deadline on its gRPC calls.
/// </summary>
public sealed class DaprStateStore(DaprClient dapr, string storeName, TimeSpan callTimeout) : IStateStore
{
    private static readonly StateOptions Checked = new() { Concurrency = ConcurrencyMode.FirstWrite, Consistency = ConsistencyMode.Strong };
    private static readonly StateOptions Unchecked = new() { Concurrency = ConcurrencyMode.LastWrite, Consistency = ConsistencyMode.Strong };

    public async Task<StateEntry<T>?> GetAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        using var call = Bounded(cancellationToken);
        var (bytes, etag) = await dapr.GetByteStateAndETagAsync(storeName, key, ConsistencyMode.Strong, cancellationToken: call.Token);
        // A missing key reads as no data (the typed read would hand back default(T), which for a number is a value).
        return bytes.IsEmpty ? null : new StateEntry<T>(key, JsonSerializer.Deserialize<T>(bytes.Span, LicenzyJson.Options)!, etag ?? "");
    }

    public async Task<bool> TrySaveAsync<T>(string key, T value, string? etag, CancellationToken cancellationToken = default)
    {
        using var call = Bounded(cancellationToken);
        try
        {
            // An empty ETag with first-write is "the key must not exist yet"; the SDK answers false on a refused ETag.
            return await dapr.TrySaveStateAsync(storeName, key, value, etag ?? "", Checked, cancellationToken: call.Token);
        }
        catch (DaprException e) when (IsConflict(e))
        {
            return false;
        }
    }

    public async Task SaveAsync<T>(string key, T value, CancellationToken cancellationToken = default)
    {
        using var call = Bounded(cancellationToken);
        await dapr.SaveStateAsync(storeName, key, value, Unchecked, cancellationToken: call.Token);
    }

    public async Task<bool> TryDeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default)
    {
        using var call = Bounded(cancellationToken);
        if (etag is null)
        {
            await dapr.DeleteStateAsync(storeName, key, Unchecked, cancellationToken: call.Token);
            return true;
        }
        try
        {
            return await dapr.TryDeleteStateAsync(storeName, key, etag, Checked, cancellationToken: call.Token);
        }
        catch (DaprException e) when (IsConflict(e))
        {
            return false;
        }
    }

    public Task<bool> TryTransactAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default) =>
        TransactAsync(operations.Select(Request).ToList(), cancellationToken);

    public async Task<IReadOnlyDictionary<string, string>?> TryTransactReturningETagsAsync(IReadOnlyList<StateOperation> operations,
        CancellationToken cancellationToken = default) =>
        // Dapr's transaction API tells no ETags back.
        await TryTransactAsync(operations, cancellationToken) ? NoETags : null;

    private static readonly IReadOnlyDictionary<string, string> NoETags = new Dictionary<string, string>();

    /// <summary>One transaction, all or nothing; false when any operation's concurrency check refused it.</summary>
    internal async Task<bool> TransactAsync(IReadOnlyList<StateTransactionRequest> requests, CancellationToken ct)
    {
        using var call = Bounded(ct);
        try
        {
            await dapr.ExecuteStateTransactionAsync(storeName, requests, cancellationToken: call.Token);
            return true;
        }
        catch (DaprException e) when (IsConflict(e))
        {
            return false;
        }
    }

    private CancellationTokenSource Bounded(CancellationToken caller)
    {
        var call = CancellationTokenSource.CreateLinkedTokenSource(caller);
        call.CancelAfter(callTimeout);
        return call;
    }

    /// <summary>The transaction request for one operation, its value as Licenzy's JSON.</summary>
    internal static StateTransactionRequest Request(StateOperation operation) => operation switch
    {
        StateOperation.Upsert upsert => new StateTransactionRequest(upsert.Key,
            JsonSerializer.SerializeToUtf8Bytes(upsert.Value, upsert.Value.GetType(), LicenzyJson.Options),
            StateOperationType.Upsert,
            // Insert only is first-write with no ETag, as for a single save.
            upsert.ETag ?? (upsert.MustNotExist ? "" : null),
            TimeToLive(upsert.TimeToLive),
            upsert.ETag is not null || upsert.MustNotExist ? Checked : Unchecked),
        StateOperation.Delete delete => new StateTransactionRequest(delete.Key, null, StateOperationType.Delete, delete.ETag,
            options: delete.ETag is null ? Unchecked : Checked),
        _ => throw new ArgumentException($"unknown state operation {operation.GetType().Name}", nameof(operation)),
    };

    /// <summary>Dapr's state TTL: the store forgets the key after this many seconds (rounded up).</summary>
    private static Dictionary<string, string>? TimeToLive(TimeSpan? timeToLive) =>
        timeToLive is { } ttl
            ? new Dictionary<string, string> { ["ttlInSeconds"] = ((long)Math.Ceiling(ttl.TotalSeconds)).ToString(CultureInfo.InvariantCulture) }
            : null;

    /// <summary>
    /// daprd refuses a stale ETag on a single save or delete with gRPC <c>Aborted</c>, but fails a
    /// whole transaction with <c>Internal</c> and a message about a possible ETag mismatch; both mean
    /// "someone else wrote first". Any other failure is an error.
    /// </summary>
    internal static bool IsConflict(DaprException exception) =>
        exception.InnerException is RpcException rpc
        && (rpc.StatusCode == StatusCode.Aborted
            || (rpc.StatusCode == StatusCode.Internal && rpc.Status.Detail.Contains("etag", StringComparison.OrdinalIgnoreCase)));
}

/// <summary>The Dapr state stores by component name; only Licenzy's own names, as with the embedded binding.</summary>
public sealed class DaprStateStoreFactory(DaprClient dapr, IOptions<DaprOptions> options) : IStateStoreFactory
{
    private readonly Dictionary<string, DaprStateStore> _stores = new()
    {
        [Components.StateStore] = new DaprStateStore(dapr, Components.StateStore, options.Value.CallTimeout),
        [Components.EventStore] = new DaprStateStore(dapr, Components.EventStore, options.Value.CallTimeout),
    };

    public IStateStore Get(string storeName) => Store(storeName);

    internal DaprStateStore Store(string storeName) =>
        _stores.TryGetValue(storeName, out var store)
            ? store
            : throw new ArgumentException($"'{storeName}' is not one of Licenzy's state stores", nameof(storeName));
}

using System.Net;
using System.Text.Json;
using Licenzy.Infrastructure.State;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>
/// A state store through the sidecar (<c>/v1.0/state/{store}</c>). "Insert only" is an upsert
/// with no ETag and <c>first-write</c> concurrency, which Dapr's state stores refuse when the key
/// exists; "only if unchanged" sends the ETag. Either refusal is a conflict, not an error.
/// </summary>
public sealed class DaprStateStore(DaprSidecar sidecar, string storeName) : IStateStore
{
    private string Path => $"/v1.0/state/{Uri.EscapeDataString(storeName)}";

    public async Task<StateEntry<T>?> GetAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        using var response = await sidecar.SendAsync(HttpMethod.Get, $"{Path}/{Uri.EscapeDataString(key)}?consistency=strong", null, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.NotFound) return null;
        await DaprSidecar.EnsureSuccessAsync(response, $"get state {storeName}", cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (bytes.Length == 0) return null;
        var etag = response.Headers.ETag?.Tag.Trim('"') ?? (response.Headers.TryGetValues("ETag", out var values) ? values.First() : "");
        return new StateEntry<T>(key, JsonSerializer.Deserialize<T>(bytes, LicenzyJson.Options)!, etag);
    }

    public async Task<bool> TrySaveAsync<T>(string key, T value, string? etag, CancellationToken cancellationToken = default)
    {
        using var response = await sidecar.SendAsync(HttpMethod.Post, Path, new[] { Item(key, value, etag, checkConcurrency: true) }, cancellationToken);
        return await SucceededOrConflictAsync(response, "save state", cancellationToken);
    }

    public async Task SaveAsync<T>(string key, T value, CancellationToken cancellationToken = default)
    {
        using var response = await sidecar.SendAsync(HttpMethod.Post, Path, new[] { Item(key, value, null, checkConcurrency: false) }, cancellationToken);
        await DaprSidecar.EnsureSuccessAsync(response, $"save state {storeName}", cancellationToken);
    }

    public async Task<bool> TryDeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default)
    {
        var query = etag is null ? "" : "?concurrency=first-write";
        using var response = await sidecar.SendAsync(HttpMethod.Delete, $"{Path}/{Uri.EscapeDataString(key)}{query}", null, cancellationToken,
            headers: etag is null ? null : [new("If-Match", etag)]);
        return await SucceededOrConflictAsync(response, "delete state", cancellationToken);
    }

    public async Task<bool> TryTransactAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken = default) =>
        await TransactAsync(operations, metadata: null, cancellationToken);

    public async Task<IReadOnlyDictionary<string, string>?> TryTransactReturningETagsAsync(IReadOnlyList<StateOperation> operations,
        CancellationToken cancellationToken = default) =>
        await TransactAsync(operations, metadata: null, cancellationToken) ? NoETags : null;

    private static readonly IReadOnlyDictionary<string, string> NoETags = new Dictionary<string, string>();

    /// <summary>A transaction, with request metadata (the outbox passes the CloudEvent id through it).</summary>
    internal async Task<bool> TransactAsync(IReadOnlyList<StateOperation> operations, IReadOnlyDictionary<string, string>? metadata, CancellationToken ct)
    {
        var body = new DaprTransaction(operations.Select(operation => operation switch
        {
            StateOperation.Upsert upsert => new DaprTransactionOperation("upsert",
                Item(upsert.Key, upsert.Value, upsert.ETag, checkConcurrency: upsert.ETag is not null || upsert.MustNotExist, upsert.TimeToLive)),
            StateOperation.Delete delete => new DaprTransactionOperation("delete",
                new DaprStateItem(delete.Key, null, delete.ETag, delete.ETag is null ? null : new DaprStateOptions("first-write", "strong"))),
            _ => throw new ArgumentException($"unknown state operation {operation.GetType().Name}", nameof(operations)),
        }).ToList(), metadata);
        using var response = await sidecar.SendAsync(HttpMethod.Post, $"{Path}/transaction", body, ct);
        return await SucceededOrConflictAsync(response, "state transaction", ct);
    }

    private static DaprStateItem Item(string key, object? value, string? etag, bool checkConcurrency, TimeSpan? timeToLive = null) =>
        new(key, value, etag, checkConcurrency ? new DaprStateOptions("first-write", "strong") : new DaprStateOptions("last-write", "strong"),
            // Dapr's state TTL: the store forgets the key after this many seconds (rounded up).
            timeToLive is { } ttl
                ? new Dictionary<string, string> { ["ttlInSeconds"] = ((long)Math.Ceiling(ttl.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) }
                : null);

    /// <summary>
    /// Dapr answers an ETag refusal with 409 (some stores report it as a failed save whose message
    /// names the ETag); both mean "someone else wrote first".
    /// </summary>
    private async Task<bool> SucceededOrConflictAsync(HttpResponseMessage response, string operation, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return true;
        if (response.StatusCode == HttpStatusCode.Conflict) return false;
        var (code, message) = await DaprSidecar.ErrorOfAsync(response, ct);
        if (message?.Contains("etag", StringComparison.OrdinalIgnoreCase) == true || code == "ERR_STATE_ETAG_MISMATCH") return false;
        throw new DaprException($"{operation} {storeName}", response.StatusCode, code, message);
    }
}

internal sealed record DaprStateOptions(string Concurrency, string Consistency);

internal sealed record DaprStateItem(string Key, object? Value, string? Etag, DaprStateOptions? Options,
    IReadOnlyDictionary<string, string>? Metadata = null);

internal sealed record DaprTransactionOperation(string Operation, DaprStateItem Request);

internal sealed record DaprTransaction(List<DaprTransactionOperation> Operations, IReadOnlyDictionary<string, string>? Metadata);

/// <summary>The Dapr state stores by component name; only Licenzy's own names, as with the embedded binding.</summary>
public sealed class DaprStateStoreFactory(DaprSidecar sidecar) : IStateStoreFactory
{
    private readonly Dictionary<string, DaprStateStore> _stores = new()
    {
        [Components.StateStore] = new DaprStateStore(sidecar, Components.StateStore),
        [Components.EventStore] = new DaprStateStore(sidecar, Components.EventStore),
    };

    public IStateStore Get(string storeName) => Store(storeName);

    internal DaprStateStore Store(string storeName) =>
        _stores.TryGetValue(storeName, out var store)
            ? store
            : throw new ArgumentException($"'{storeName}' is not one of Licenzy's state stores", nameof(storeName));
}

using System.Collections.Concurrent;
using Licenzy.Api.Http;
using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Setup;

/// <summary>When each key of one tenant and mode was last used, as far as written (<see cref="ApiKeyUses"/>).</summary>
public sealed record ApiKeyUseList(Dictionary<string, DateTimeOffset> LastUsedAt);

/// <summary>
/// Records when runtime keys are used without a write per request: the runtime API takes tens of
/// thousands of calls a second. A use is written only when the key's last written use (by this
/// process) is at least <see cref="Granularity"/> old, so each key costs at most one write a
/// minute per process, and the stored time is never more than a minute before the key's true last
/// use (docs/decisions/020-api-key-last-use.md).
/// </summary>
public sealed class ApiKeyUses(IStateStoreFactory stores, TimeProvider clock, ILogger<ApiKeyUses> log)
{
    public static readonly TimeSpan Granularity = TimeSpan.FromMinutes(1);

    /// <summary>After a failed write, the next use tries again this much later rather than at once.</summary>
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(5);

    private readonly IStateStore _state = stores.Get(Components.StateStore);
    private readonly ConcurrentDictionary<string, Written> _written = new(StringComparer.Ordinal);

    /// <summary>What this process last wrote for a key, and whether a write of it is under way.</summary>
    private sealed class Written
    {
        public long AtTicks; // never: the ticks of 0001-01-01
        public int Writing;
    }

    /// <summary>Notes a use of the key; completes at once unless this use is the minute's one to write.</summary>
    public ValueTask RecordAsync(RuntimeCaller caller, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (!_written.TryGetValue(caller.KeyId, out var written)) written = _written.GetOrAdd(caller.KeyId, static _ => new Written());
        if (now.UtcTicks - Volatile.Read(ref written.AtTicks) < Granularity.Ticks) return ValueTask.CompletedTask;
        // Of the requests that find the key due at once, one writes; the others go on.
        if (Interlocked.CompareExchange(ref written.Writing, 1, 0) != 0) return ValueTask.CompletedTask;
        return new ValueTask(WriteAsync(caller, now, written, ct));
    }

    private async Task WriteAsync(RuntimeCaller caller, DateTimeOffset now, Written written, CancellationToken ct)
    {
        try
        {
            var key = StateKeys.ApiKeyUses(caller.TenantId, caller.Mode);
            while (true)
            {
                var current = await _state.GetAsync<ApiKeyUseList>(key, ct);
                var uses = new Dictionary<string, DateTimeOffset>(current?.Value.LastUsedAt ?? [], StringComparer.Ordinal);
                // Another replica may have written a later use: the stored time never goes back.
                if (uses.TryGetValue(caller.KeyId, out var stored) && stored >= now) break;
                uses[caller.KeyId] = now;
                if (await _state.TrySaveAsync(key, new ApiKeyUseList(uses), current?.ETag, ct)) break;
            }
            Volatile.Write(ref written.AtTicks, now.UtcTicks);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The use is bookkeeping: the request it came with goes on.
            log.LogWarning(e, "Could not record the use of API key {KeyId}", caller.KeyId);
            Volatile.Write(ref written.AtTicks, (now - Granularity + RetryAfterFailure).UtcTicks);
        }
        finally
        {
            Volatile.Write(ref written.Writing, 0);
        }
    }

    /// <summary>The written last uses of the keys of one tenant and mode.</summary>
    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> ListAsync(string tenantId, Mode mode, CancellationToken ct) =>
        (await _state.GetAsync<ApiKeyUseList>(StateKeys.ApiKeyUses(tenantId, mode), ct))?.Value.LastUsedAt ?? [];
}

using System.Security.Cryptography;
using System.Text;
using Licenzy.Api.Reads;
using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Setup;

/// <summary>A runtime key as stored: found by the hash of the key, never by the key.</summary>
public sealed record ApiKeyRecord(string Id, string TenantId, Mode Mode, string? Name, DateTimeOffset CreatedAt);

/// <summary>The keys of one tenant and mode, for listing and revoking by id.</summary>
public sealed record ApiKeyList(List<ApiKeyListing> Keys);

public sealed record ApiKeyListing(string Id, string? Name, string KeyHash, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>A created key: <see cref="Key"/> is shown this once.</summary>
public sealed record CreatedApiKey(string Id, string Key, Mode Mode, string? Name, DateTimeOffset CreatedAt);

/// <summary>
/// Runtime API keys: <c>lz_test_</c> or <c>lz_live_</c> and 32 random characters. Stored only as
/// a SHA-256 hash (the keys are random enough that a plain hash cannot be reversed), so a
/// leaked store leaks no usable key.
/// </summary>
public sealed class ApiKeys(IStateStoreFactory stores, ReadCaches caches, TimeProvider clock)
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const int RandomLength = 32;

    private readonly IStateStore _state = stores.Get(Components.StateStore);

    public async Task<CreatedApiKey> CreateAsync(string tenantId, Mode mode, string? name, CancellationToken ct)
    {
        var key = $"lz_{mode.ToWire()}_{RandomNumberGenerator.GetString(Alphabet, RandomLength)}";
        var id = "key_" + RandomNumberGenerator.GetString(Alphabet, 20);
        var hash = Hash(key);
        var now = clock.GetUtcNow();
        var record = new ApiKeyRecord(id, tenantId, mode, name, now);

        while (true)
        {
            var list = await _state.GetAsync<ApiKeyList>(StateKeys.ApiKeys(tenantId, mode), ct);
            var keys = new List<ApiKeyListing>(list?.Value.Keys ?? []) { new(id, name, hash, now, null) };
            var written = await _state.TryTransactAsync(
            [
                new StateOperation.Upsert(StateKeys.ApiKeyByHash(hash), record, MustNotExist: true),
                new StateOperation.Upsert(StateKeys.ApiKeys(tenantId, mode), new ApiKeyList(keys), list?.ETag, MustNotExist: list is null),
            ], ct);
            if (written) return new CreatedApiKey(id, key, mode, name, now);
        }
    }

    /// <summary>Revokes a key by id; it stops working at once. False when there is no such live key.</summary>
    public async Task<bool> RevokeAsync(string tenantId, Mode mode, string id, CancellationToken ct)
    {
        while (true)
        {
            var list = await _state.GetAsync<ApiKeyList>(StateKeys.ApiKeys(tenantId, mode), ct);
            var listing = list?.Value.Keys.Find(k => k.Id == id);
            if (list is null || listing is null || listing.RevokedAt is not null) return false;

            var keys = list.Value.Keys.Select(k => k.Id == id ? k with { RevokedAt = clock.GetUtcNow() } : k).ToList();
            using var revoking = caches.ApiKeys?.BeginWrite(StateKeys.ApiKeyByHash(listing.KeyHash));
            var written = await _state.TryTransactAsync(
            [
                new StateOperation.Delete(StateKeys.ApiKeyByHash(listing.KeyHash)),
                new StateOperation.Upsert(StateKeys.ApiKeys(tenantId, mode), new ApiKeyList(keys), list.ETag),
            ], ct);
            if (written) return true;
        }
    }

    /// <summary>The key's record when the key is well-formed, known and not revoked; otherwise null.</summary>
    public async Task<ApiKeyRecord?> ResolveAsync(string? key, CancellationToken ct)
    {
        if (!IsWellFormed(key, out var mode)) return null;
        var stateKey = StateKeys.ApiKeyByHash(Hash(key!));
        var record = caches.ApiKeys is { } cache
            ? await cache.GetAsync(stateKey, LoadAsync, ct)
            : await LoadAsync(stateKey, ct);
        return record is not null && record.Mode == mode ? record : null;
    }

    private async Task<ApiKeyRecord?> LoadAsync(string stateKey, CancellationToken ct) =>
        (await _state.GetAsync<ApiKeyRecord>(stateKey, ct))?.Value;

    private static bool IsWellFormed(string? key, out Mode mode)
    {
        mode = default;
        if (key is null || key.Length != "lz_test_".Length + RandomLength) return false;
        if (key.StartsWith("lz_test_", StringComparison.Ordinal)) mode = Mode.Test;
        else if (key.StartsWith("lz_live_", StringComparison.Ordinal)) mode = Mode.Live;
        else return false;
        foreach (var c in key.AsSpan(8))
        {
            if (!char.IsAsciiLetterOrDigit(c)) return false;
        }
        return true;
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}

using System.Diagnostics;
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

public sealed record ApiKeyListing(string Id, string? Name, string KeyHash, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    /// <summary>The key's last characters, kept at creation so an operator can tell keys apart; null for keys made before hints were kept.</summary>
    public string? Hint { get; init; }
}

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
    private const int KeyLength = 8 + RandomLength;
    private const int HashLength = 2 * SHA256.HashSizeInBytes;

    /// <summary>How much of a key its listing shows: 4 of 32 random characters leave 28 (over 160 bits) unknown.</summary>
    public const int HintLength = 4;

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
            var keys = new List<ApiKeyListing>(list?.Value.Keys ?? []) { new(id, name, hash, now, null) { Hint = key[^HintLength..] } };
            var written = await _state.TryTransactAsync(
            [
                new StateOperation.Upsert(StateKeys.ApiKeyByHash(hash), record, MustNotExist: true),
                new StateOperation.Upsert(StateKeys.ApiKeys(tenantId, mode), new ApiKeyList(keys), list?.ETag, MustNotExist: list is null),
            ], ct);
            if (written) return new CreatedApiKey(id, key, mode, name, now);
        }
    }

    /// <summary>Every key of the tenant and mode, revoked ones included, oldest first.</summary>
    public async Task<IReadOnlyList<ApiKeyListing>> ListAsync(string tenantId, Mode mode, CancellationToken ct) =>
        (await _state.GetAsync<ApiKeyList>(StateKeys.ApiKeys(tenantId, mode), ct))?.Value.Keys ?? [];

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

    /// <summary>
    /// The key's record when the key is well-formed, known and not revoked; otherwise null. A key
    /// in the cache is answered without allocating: it runs on every runtime call.
    /// </summary>
    public ValueTask<ApiKeyRecord?> ResolveAsync(ReadOnlySpan<char> key, CancellationToken ct)
    {
        if (!IsWellFormed(key, out var mode)) return ValueTask.FromResult<ApiKeyRecord?>(null);
        Span<char> stateKey = stackalloc char[StateKeys.ApiKeyByHashPrefix.Length + HashLength];
        StateKeys.ApiKeyByHashPrefix.CopyTo(stateKey);
        WriteHash(key, stateKey[StateKeys.ApiKeyByHashPrefix.Length..]);
        return caches.ApiKeys is { } cache && cache.TryGetCached(stateKey, out var cached)
            ? ValueTask.FromResult(OfMode(cached, mode))
            : LoadAsync(new string(stateKey), mode, ct);
    }

    /// <summary>Not cached (or caching is off): from the store, through the cache when there is one.</summary>
    private async ValueTask<ApiKeyRecord?> LoadAsync(string stateKey, Mode mode, CancellationToken ct) =>
        OfMode(caches.ApiKeys is { } cache ? await cache.GetAsync(stateKey, LoadAsync, ct) : await LoadAsync(stateKey, ct), mode);

    private async Task<ApiKeyRecord?> LoadAsync(string stateKey, CancellationToken ct) =>
        (await _state.GetAsync<ApiKeyRecord>(stateKey, ct))?.Value;

    private static ApiKeyRecord? OfMode(ApiKeyRecord? record, Mode mode) => record is not null && record.Mode == mode ? record : null;

    private static bool IsWellFormed(ReadOnlySpan<char> key, out Mode mode)
    {
        mode = default;
        if (key.Length != KeyLength) return false;
        if (key.StartsWith("lz_test_", StringComparison.Ordinal)) mode = Mode.Test;
        else if (key.StartsWith("lz_live_", StringComparison.Ordinal)) mode = Mode.Live;
        else return false;
        foreach (var c in key[8..])
        {
            if (!char.IsAsciiLetterOrDigit(c)) return false;
        }
        return true;
    }

    /// <summary>
    /// The lower-case hex SHA-256 of a well-formed key (<see cref="IsWellFormed"/>, or one
    /// <see cref="CreateAsync"/> made), written into <paramref name="hex"/> (64 characters). Such a
    /// key is ASCII, so its ASCII bytes are its UTF-8 bytes, the ones stored hashes were made from.
    /// </summary>
    private static void WriteHash(ReadOnlySpan<char> key, Span<char> hex)
    {
        Debug.Assert(key.Length == KeyLength && Ascii.IsValid(key), "only well-formed keys are hashed");
        Span<byte> bytes = stackalloc byte[KeyLength];
        Encoding.ASCII.GetBytes(key, bytes);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes, hash);
        Convert.TryToHexStringLower(hash, hex, out _);
    }

    private static string Hash(string key)
    {
        Span<char> hex = stackalloc char[HashLength];
        WriteHash(key, hex);
        return new string(hex);
    }
}

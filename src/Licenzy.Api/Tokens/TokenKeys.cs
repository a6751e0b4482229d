using System.Buffers.Text;
using System.Security.Cryptography;
using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using NSec.Cryptography;

namespace Licenzy.Api.Tokens;

/// <summary>One Ed25519 signing key: it signs from <see cref="ActiveFrom"/> until the next key's.</summary>
public sealed record TokenSigningKey(string Kid, DateTimeOffset ActiveFrom, string PublicKey, string ProtectedPrivateKey);

/// <summary>The deployment's signing keys, oldest first, kept in one document that every replica reads.</summary>
public sealed record TokenKeyRing(IReadOnlyList<TokenSigningKey> Keys)
{
    public static readonly TokenKeyRing Empty = new([]);

    /// <summary>The key that signs at <paramref name="now"/>: the newest already active.</summary>
    public TokenSigningKey? ActiveAt(DateTimeOffset now) => Keys.LastOrDefault(key => key.ActiveFrom <= now);

    /// <summary>The key that takes over next, published ahead so that verifiers have it before its first token.</summary>
    public TokenSigningKey? NextAfter(DateTimeOffset now) => Keys.FirstOrDefault(key => key.ActiveFrom > now);
}

/// <summary>
/// The signing keys of entitlement tokens. Each key is made one rotation period before it starts
/// signing and listed from then on, so a verifier that fetched the key set at any time in that
/// period already knows it; it signs for one period; once the next key has taken over it stays
/// listed until every token it signed has expired (<see cref="TokenOptions.MaxLifetimeSeconds"/>),
/// then it goes. Private keys are kept protected by the Data Protection key ring, as the other
/// secrets are. The ring is one document with an ETag: replicas that rotate at once write it once.
/// </summary>
public sealed class TokenKeys(IStateStoreFactory stores, IDataProtectionProvider protection, IOptionsMonitor<TokenOptions> options,
    TimeProvider clock) : IDisposable
{
    public const string ProtectionPurpose = "Licenzy.TokenSigningKey";

    /// <summary>How long a replica trusts its copy of the ring before reading it again.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(1);

    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;

    private readonly IStateStore _state = stores.Get(Components.StateStore);
    private readonly IDataProtector _protector = protection.CreateProtector(ProtectionPurpose);
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly Dictionary<string, Key> _private = new(StringComparer.Ordinal);
    private volatile Cached? _cached;

    private sealed record Cached(TokenKeyRing Ring, DateTimeOffset ReadAgainAt);

    /// <summary>The key that signs now, with its private half, and the ring it was found in.</summary>
    public async Task<(TokenSigningKey Key, Key Private)> SigningKeyAsync(CancellationToken ct)
    {
        var ring = await RingAsync(ct);
        var active = ring.ActiveAt(clock.GetUtcNow())!;
        lock (_private)
        {
            if (!_private.TryGetValue(active.Kid, out var key))
            {
                var raw = Convert.FromBase64String(_protector.Unprotect(active.ProtectedPrivateKey));
                _private[active.Kid] = key = Key.Import(Ed25519, raw, KeyBlobFormat.RawPrivateKey);
                CryptographicOperations.ZeroMemory(raw);
            }
            return (active, key);
        }
    }

    /// <summary>The keys to list: active, next and retired ones whose tokens may still be valid.</summary>
    public async Task<IReadOnlyList<TokenSigningKey>> PublishedAsync(CancellationToken ct) => (await RingAsync(ct)).Keys;

    /// <summary>The ring, read at most every <see cref="CacheFor"/> and whenever a key takes over; rotated when due.</summary>
    private async Task<TokenKeyRing> RingAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (_cached is { } cached && now < cached.ReadAgainAt) return cached.Ring;
        await _refresh.WaitAsync(ct);
        try
        {
            now = clock.GetUtcNow();
            if (_cached is { } again && now < again.ReadAgainAt) return again.Ring;
            while (true)
            {
                var stored = await _state.GetAsync<TokenKeyRing>(StateKeys.TokenKeys, ct);
                var ring = stored?.Value ?? TokenKeyRing.Empty;
                var rotated = Rotate(ring, now);
                if (rotated is not null
                    && !await _state.TryTransactAsync([new StateOperation.Upsert(StateKeys.TokenKeys, rotated, stored?.ETag, MustNotExist: stored is null)], ct))
                {
                    continue; // another replica rotated at the same moment: take its ring
                }
                ring = rotated ?? ring;
                var next = ring.NextAfter(now)!;
                _cached = new Cached(ring, next.ActiveFrom < now + CacheFor ? next.ActiveFrom : now + CacheFor);
                return ring;
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>
    /// The ring as it must be at <paramref name="now"/>: a key active, the next one published, and
    /// no retired key kept past its last token; null when it already is.
    /// </summary>
    private TokenKeyRing? Rotate(TokenKeyRing ring, DateTimeOffset now)
    {
        var period = TimeSpan.FromDays(options.CurrentValue.RotationDays);
        var keys = ring.Keys.ToList();
        var changed = false;
        if (ring.ActiveAt(now) is null)
        {
            keys.Add(NewKey(now));
            changed = true;
        }
        var active = keys.Last(key => key.ActiveFrom <= now);
        if (!keys.Any(key => key.ActiveFrom > now))
        {
            var from = active.ActiveFrom + period;
            keys.Add(NewKey(from > now ? from : now + period));
            changed = true;
        }
        keys.Sort((a, b) => a.ActiveFrom.CompareTo(b.ActiveFrom));
        // A key retired when the one after it took over; its tokens last at most the longest lifetime.
        var kept = keys.Where((key, i) => i + 1 >= keys.Count
            || keys[i + 1].ActiveFrom + TimeSpan.FromSeconds(TokenOptions.MaxLifetimeSeconds) > now).ToList();
        changed |= kept.Count != keys.Count;
        return changed ? new TokenKeyRing(kept) : null;
    }

    private TokenSigningKey NewKey(DateTimeOffset activeFrom)
    {
        using var key = Key.Create(Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        var publicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        var privateKey = key.Export(KeyBlobFormat.RawPrivateKey);
        try
        {
            var kid = Base64Url.EncodeToString(SHA256.HashData(publicKey).AsSpan(0, 12));
            return new TokenSigningKey(kid, activeFrom, Base64Url.EncodeToString(publicKey), _protector.Protect(Convert.ToBase64String(privateKey)));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
        }
    }

    public void Dispose()
    {
        lock (_private)
        {
            foreach (var key in _private.Values) key.Dispose();
            _private.Clear();
        }
        _refresh.Dispose();
    }
}

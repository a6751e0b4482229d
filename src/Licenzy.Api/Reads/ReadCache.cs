using System.Collections.Concurrent;

namespace Licenzy.Api.Reads;

/// <summary>
/// An in-process cache in front of store reads that this process also writes. Every writer
/// brackets its write with <see cref="BeginWrite"/> (before) and disposing the result (after the
/// write is committed), which drops the key's entry. A read that overlapped any write to its
/// stripe of keys does not fill the cache, so an entry is never older than the last write this
/// process finished: a reader sees either the entry of the current value or goes to the store.
/// </summary>
/// <remarks>
/// Only writes made through this process are seen. That is the embedded binding's shape (one
/// process owns the file's subjects and keys); with the Dapr binding the cache is off.
/// </remarks>
public sealed class ReadCache<T>(int capacity, bool cacheMissing) where T : class
{
    private const int StripeCount = 1024;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    // Per stripe: writes begun and writes finished. Equal means no write is in flight there.
    private readonly long[] _begun = new long[StripeCount];
    private readonly long[] _finished = new long[StripeCount];
    private int _fills;

    /// <summary>The cached value, or <paramref name="load"/>'s (cached when no write overlapped it).</summary>
    public async ValueTask<T?> GetAsync(string key, Func<string, CancellationToken, Task<T?>> load, CancellationToken ct)
    {
        if (_entries.TryGetValue(key, out var hit)) return hit.Value;

        var stripe = StripeOf(key);
        var begun = Volatile.Read(ref _begun[stripe]);
        var quiet = begun == Volatile.Read(ref _finished[stripe]);
        var value = await load(key, ct);
        if (!quiet || (value is null && !cacheMissing)) return value;

        var entry = new Entry(value);
        _entries[key] = entry;
        // A write began meanwhile: what we read may be older than it, so take our entry back.
        if (Volatile.Read(ref _begun[stripe]) != begun) _entries.TryRemove(KeyValuePair.Create(key, entry));
        else if (Interlocked.Increment(ref _fills) % 1024 == 0) _entries.TrimTo(capacity);
        return value;
    }

    /// <summary>
    /// The cached value of a key given as characters, without making a string of them (the hot
    /// path's lookups); false when it is not cached. A miss is the caller's to load with <see cref="GetAsync"/>.
    /// </summary>
    public bool TryGetCached(ReadOnlySpan<char> key, out T? value)
    {
        if (_entries.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out var hit))
        {
            value = hit.Value;
            return true;
        }
        value = null;
        return false;
    }

    /// <summary>Call before writing <paramref name="key"/>; dispose once the write is committed (or failed).</summary>
    public IDisposable BeginWrite(string key)
    {
        var stripe = StripeOf(key);
        Interlocked.Increment(ref _begun[stripe]);
        return new WriteScope(this, key, stripe);
    }

    private void EndWrite(string key, int stripe)
    {
        _entries.TryRemove(key, out _);
        Interlocked.Increment(ref _finished[stripe]);
    }

    private static int StripeOf(string key) => (int)((uint)StringComparer.Ordinal.GetHashCode(key) % StripeCount);

    private sealed record Entry(T? Value);

    private sealed class WriteScope(ReadCache<T> cache, string key, int stripe) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0) cache.EndWrite(key, stripe);
        }
    }
}

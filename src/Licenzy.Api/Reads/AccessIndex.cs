using System.Collections.Concurrent;
using System.Text;
using Licenzy.Api.Subjects;
using Licenzy.Domain;
using Licenzy.Domain.Subjects;
using Licenzy.Infrastructure;
using Microsoft.Extensions.Options;

namespace Licenzy.Api.Reads;

/// <summary>
/// What access checks need of every subject, in a few dozen bytes each: its version, and per set
/// of features the instant until which something grants them (<see cref="Domain.Entitlements.Entitlement.AvailableUntil"/>).
/// Loaded from the store at start (<see cref="AccessIndexLoader"/>) and kept current by the
/// subject actor, which records every document it commits before its turn ends. So an answer from
/// here is never older than the last change this process finished, and once loaded, a subject it
/// does not hold has no document: "not allowed, version 0" without reading the store.
/// </summary>
/// <remarks>
/// On where the read caches are (the embedded binding, one writer per file). Subjects are kept in
/// striped open-addressing tables of structs, with subject_refs as ASCII bytes side by side, so a
/// million subjects cost tens of megabytes and few objects for the collector. Each stripe has its
/// own lock: a check holds it for a probe of a few entries, and writers are rare next to readers.
/// </remarks>
public sealed class AccessIndex
{
    private const int StripeCount = 256;
    private const long Never = 0;

    private readonly Stripe[] _stripes = new Stripe[StripeCount];
    private readonly ConcurrentDictionary<(string TenantId, Mode Mode), ushort> _scopes = new();
    private readonly Lock _scopeGate = new();
    private readonly FeatureSets _featureSets = new();
    private readonly int _capacity;
    private int _count;
    private volatile bool _loaded;
    // Set when a subject could not be taken in (capacity, too many scopes): misses then read the store.
    private volatile bool _partial;

    public AccessIndex(IOptions<ApiOptions> options, IConfiguration configuration)
    {
        _capacity = options.Value.AccessIndexCapacity;
        IsOn = _capacity > 0 && ComponentsRegistration.ProcessIsTheOnlyWriter(configuration);
        for (var i = 0; i < StripeCount; i++) _stripes[i] = new Stripe();
    }

    public bool IsOn { get; }

    /// <summary>Every subject in the store is held: a subject not found has no document.</summary>
    public bool IsComplete => _loaded && !_partial;

    /// <summary>Whether the load at start has finished (complete or not).</summary>
    public bool IsLoaded => _loaded;

    /// <summary>Subjects held.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Answers an access check from memory: false when this index cannot tell (off, not loaded
    /// and the subject not held yet, or the subject beyond what it holds), and the caller reads the store.
    /// </summary>
    public bool TryCheck(in SubjectKey subject, string? feature, DateTimeOffset now, out bool allowed, out long version)
    {
        allowed = false;
        version = 0;
        if (!IsOn || !IsIndexable(subject.SubjectRef)) return false;
        // Read before looking: a subject missing from an index complete at this point has no finished write.
        var complete = IsComplete;
        if (!_scopes.TryGetValue((subject.TenantId, subject.Mode), out var scope)) return complete;

        var hash = Hash(scope, subject.SubjectRef);
        var stripe = _stripes[StripeOf(hash)];
        Grant first;
        Grant[]? more;
        lock (stripe.Gate)
        {
            var at = stripe.Find(hash, scope, subject.SubjectRef);
            if (at < 0) return complete;
            ref var entry = ref stripe.Entries[at];
            version = entry.Version;
            first = new Grant(entry.FirstSet, entry.FirstUntil);
            more = entry.More < 0 ? null : stripe.More[entry.More];
        }

        var ticks = now.UtcTicks;
        allowed = Grants(first, feature, ticks);
        for (var i = 0; !allowed && more is not null && i < more.Length; i++) allowed = Grants(more[i], feature, ticks);
        return true;
    }

    /// <summary>Records a document the subject's actor has just committed; call before its turn ends.</summary>
    public void Record(in SubjectKey subject, SubjectState state) => Put(subject, state.Version, Summarise(state), fromStore: false);

    /// <summary>Takes in a document read from the store at start; a newer one recorded meanwhile wins.</summary>
    public void Load(in SubjectKey subject, long version, IEnumerable<(IReadOnlyList<string> Features, DateTimeOffset Until)> entitlements) =>
        Put(subject, version, Summarise(entitlements), fromStore: true);

    /// <summary>Gives back the room the tables grew into while loading; later writes grow them again as needed.</summary>
    public void TrimExcess()
    {
        foreach (var stripe in _stripes)
        {
            lock (stripe.Gate) stripe.TrimExcess();
        }
    }

    /// <summary>The load at start is over; <paramref name="partial"/> when it could not read every subject.</summary>
    public void MarkLoaded(bool partial)
    {
        if (partial) _partial = true;
        _loaded = true;
    }

    private List<Grant> Summarise(SubjectState state) =>
        Summarise(state.Entitlements.Select(e => ((IReadOnlyList<string>)e.Features, e.AvailableUntil)));

    /// <summary>One grant per set of features, until the latest instant any entitlement with that set grants it.</summary>
    private List<Grant> Summarise(IEnumerable<(IReadOnlyList<string> Features, DateTimeOffset Until)> entitlements)
    {
        var grants = new List<Grant>(2);
        foreach (var (features, until) in entitlements)
        {
            var set = _featureSets.Intern(features);
            var ticks = until == DateTimeOffset.MinValue ? Never : until.UtcTicks;
            var same = grants.FindIndex(g => g.FeatureSet == set);
            if (same < 0) grants.Add(new Grant(set, ticks));
            else if (grants[same].Until < ticks) grants[same] = new Grant(set, ticks);
        }
        return grants;
    }

    private void Put(in SubjectKey subject, long version, List<Grant> grants, bool fromStore)
    {
        if (!IsOn) return;
        if (!IsIndexable(subject.SubjectRef) || ScopeOf(subject) is not { } scope)
        {
            _partial = true;
            return;
        }

        var hash = Hash(scope, subject.SubjectRef);
        var stripe = _stripes[StripeOf(hash)];
        var first = grants.Count > 0 ? grants[0] : new Grant(-1, Never);
        var more = grants.Count > 1 ? grants.Skip(1).ToArray() : null;
        lock (stripe.Gate)
        {
            var at = stripe.Find(hash, scope, subject.SubjectRef);
            if (at >= 0)
            {
                ref var entry = ref stripe.Entries[at];
                // Versions only grow: a document read at start never replaces one recorded since.
                if (fromStore ? entry.Version >= version : entry.Version > version) return;
                entry.Version = version;
                (entry.FirstSet, entry.FirstUntil) = (first.FeatureSet, first.Until);
                stripe.SetMore(ref entry, more);
                return;
            }
            if (Volatile.Read(ref _count) >= _capacity || !stripe.HasRoom)
            {
                _partial = true;
                return;
            }
            stripe.Add(hash, scope, subject.SubjectRef, version, first, more);
            Interlocked.Increment(ref _count);
        }
    }

    private ushort? ScopeOf(in SubjectKey subject)
    {
        var key = (subject.TenantId, subject.Mode);
        if (_scopes.TryGetValue(key, out var known)) return known;
        lock (_scopeGate)
        {
            if (_scopes.TryGetValue(key, out known)) return known;
            if (_scopes.Count >= ushort.MaxValue) return null;
            var scope = (ushort)_scopes.Count;
            _scopes[key] = scope;
            return scope;
        }
    }

    private bool Grants(Grant grant, string? feature, long nowTicks) =>
        nowTicks < grant.Until && (feature is null || _featureSets.Contains(grant.FeatureSet, feature));

    /// <summary>Of the subject_ref's ASCII bytes, so that a table can be rehashed from what it keeps; seeded per process.</summary>
    private static int Hash(ushort scope, ReadOnlySpan<byte> subjectRef)
    {
        var hash = new HashCode();
        hash.Add(scope);
        hash.AddBytes(subjectRef);
        return hash.ToHashCode();
    }

    private static int Hash(ushort scope, string subjectRef)
    {
        Span<byte> bytes = stackalloc byte[SubjectRef.MaxLength];
        var length = Encoding.ASCII.GetBytes(subjectRef, bytes);
        return Hash(scope, bytes[..length]);
    }

    /// <summary>Held in the tables: every valid subject_ref is (1 to 256 ASCII characters); anything else is read from the store.</summary>
    private static bool IsIndexable(string subjectRef) => subjectRef.Length <= SubjectRef.MaxLength && Ascii.IsValid(subjectRef);

    private static int StripeOf(int hash) => (int)((uint)hash >> 24);

    /// <summary>A set of features and until when (UTC ticks; 0 never) something grants it.</summary>
    private readonly record struct Grant(int FeatureSet, long Until);

    /// <summary>32 bytes: the fields are in the order that leaves no padding.</summary>
    private struct Entry
    {
        public long Version;
        public long FirstUntil;
        public int KeyOffset;
        public int More;
        public int FirstSet;
        public ushort KeyLength;
        public ushort Scope;
    }

    /// <summary>One stripe's table; every member is used under <see cref="Gate"/>.</summary>
    private sealed class Stripe
    {
        public readonly Lock Gate = new();
        // (fingerprint << 24) | (entry index + 1), the fingerprint being 8 bits of the hash that
        // neither the stripe nor (below 2^16 slots) the position uses; 0 is an empty slot.
        // Linear probing, at most 3/4 full.
        private int[] _slots = new int[16];
        public Entry[] Entries = new Entry[8];
        private int _count;
        private byte[] _keys = new byte[128];
        private int _keysUsed;
        public readonly List<Grant[]> More = [];
        private readonly Stack<int> _freeMore = new();

        public int Find(int hash, ushort scope, string subjectRef)
        {
            var mask = _slots.Length - 1;
            var fingerprint = Fingerprint(hash);
            for (var i = hash & mask; ; i = (i + 1) & mask)
            {
                var slot = _slots[i];
                if (slot == 0) return -1;
                if ((slot & ~IndexMask) != fingerprint) continue;
                var at = (slot & IndexMask) - 1;
                ref var entry = ref Entries[at];
                if (entry.Scope == scope && SameKey(entry, subjectRef)) return at;
            }
        }

        private bool SameKey(in Entry entry, string subjectRef)
        {
            if (entry.KeyLength != subjectRef.Length) return false;
            var stored = _keys.AsSpan(entry.KeyOffset, entry.KeyLength);
            for (var i = 0; i < stored.Length; i++)
            {
                if (stored[i] != subjectRef[i]) return false;
            }
            return true;
        }

        public void Add(int hash, ushort scope, string subjectRef, long version, Grant first, Grant[]? more)
        {
            if ((_count + 1) * 4 > _slots.Length * 3) Rehash(_slots.Length * 2);
            if (_count == Entries.Length) Array.Resize(ref Entries, Entries.Length + Entries.Length / 2);
            if (_keysUsed + subjectRef.Length > _keys.Length)
                Array.Resize(ref _keys, Math.Max(_keys.Length + _keys.Length / 2, _keysUsed + subjectRef.Length));

            var offset = _keysUsed;
            Encoding.ASCII.GetBytes(subjectRef, _keys.AsSpan(offset));
            _keysUsed += subjectRef.Length;
            var at = _count++;
            Entries[at] = new Entry
            {
                Version = version, FirstUntil = first.Until, FirstSet = first.FeatureSet,
                KeyOffset = offset, KeyLength = (ushort)subjectRef.Length, Scope = scope, More = -1,
            };
            SetMore(ref Entries[at], more);
            Place(hash, at);
        }

        public void TrimExcess()
        {
            Array.Resize(ref Entries, Math.Max(_count, 8));
            Array.Resize(ref _keys, Math.Max(_keysUsed, 128));
        }

        public void SetMore(ref Entry entry, Grant[]? more)
        {
            if (more is null)
            {
                if (entry.More >= 0)
                {
                    More[entry.More] = [];
                    _freeMore.Push(entry.More);
                    entry.More = -1;
                }
                return;
            }
            if (entry.More >= 0) More[entry.More] = more;
            else if (_freeMore.TryPop(out var free)) More[entry.More = free] = more;
            else
            {
                entry.More = More.Count;
                More.Add(more);
            }
        }

        private void Place(int hash, int at)
        {
            var mask = _slots.Length - 1;
            var i = hash & mask;
            while (_slots[i] != 0) i = (i + 1) & mask;
            _slots[i] = Fingerprint(hash) | (at + 1);
        }

        private void Rehash(int size)
        {
            var old = _slots;
            _slots = new int[size];
            foreach (var slot in old)
            {
                if (slot == 0) continue;
                var at = (slot & IndexMask) - 1;
                ref var entry = ref Entries[at];
                Place(Hash(entry.Scope, _keys.AsSpan(entry.KeyOffset, entry.KeyLength)), at);
            }
        }

        private const int IndexMask = (1 << 24) - 1;

        private static int Fingerprint(int hash) => ((hash >> 16) & 0xFF) << 24;

        /// <summary>Whether another subject fits: entry numbers must fit the slot's 24 bits.</summary>
        public bool HasRoom => _count + 1 < IndexMask;
    }

    /// <summary>Each distinct list of features once, by number: products share them across subjects.</summary>
    private sealed class FeatureSets
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
        private volatile string[][] _sets = [];

        public int Intern(IReadOnlyList<string> features)
        {
            var key = string.Join('\n', features);
            lock (_gate)
            {
                if (_ids.TryGetValue(key, out var id)) return id;
                id = _sets.Length;
                _sets = [.. _sets, [.. features]];
                _ids[key] = id;
                return id;
            }
        }

        public bool Contains(int set, string feature)
        {
            if (set < 0) return false;
            foreach (var candidate in _sets[set])
            {
                if (string.Equals(candidate, feature, StringComparison.Ordinal)) return true;
            }
            return false;
        }
    }
}

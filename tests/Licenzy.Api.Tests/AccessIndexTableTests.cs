using Licenzy.Api.Reads;
using Licenzy.Api.Subjects;
using Licenzy.Domain;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Products;
using Licenzy.Domain.Subjects;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Licenzy.Api.Tests;

/// <summary>
/// The access index's tables on their own, at sizes the HTTP tests do not reach: many subjects
/// across tenants and modes (so every stripe grows and rehashes), updates, and writers and readers
/// at once. Each subject holds a time pass that ends at its own minute, so every answer is distinct.
/// </summary>
public sealed class AccessIndexTableTests
{
    private static readonly DateTimeOffset T0 = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly (string Tenant, Mode Mode)[] Scopes = [("ten_a", Mode.Test), ("ten_a", Mode.Live), ("ten_b", Mode.Test)];

    private static AccessIndex NewIndex(int capacity = 1_000_000) =>
        new(Options.Create(new ApiOptions { AccessIndexCapacity = capacity }), new ConfigurationBuilder().Build());

    private static SubjectKey Subject(int i) => new(Scopes[i % Scopes.Length].Tenant, Scopes[i % Scopes.Length].Mode, $"user:{i}@example.com");

    private static SubjectState PassUntil(int i, DateTimeOffset end, long version) => new()
    {
        SubjectRef = Subject(i).SubjectRef,
        Version = version,
        Entitlements =
        [
            new Entitlement
            {
                Id = $"ent_{i}", ProductCode = "DAY_PASS", Kind = ProductKind.TimePass, Features = ["export"],
                Status = EntitlementStatus.Active, ExpiresAt = end,
            },
        ],
    };

    private static (bool Known, bool Allowed, long Version) Check(AccessIndex index, int i, string? feature, DateTimeOffset now) =>
        index.TryCheck(Subject(i), feature, now, out var allowed, out var version) ? (true, allowed, version) : (false, false, 0);

    [Fact]
    public void Sixty_thousand_subjects_are_each_answered_by_their_own_state()
    {
        const int count = 60_000;
        var index = NewIndex();
        for (var i = 0; i < count; i++) index.Record(Subject(i), PassUntil(i, T0.AddMinutes(i), version: i + 1));
        index.MarkLoaded(partial: false);

        Assert.Equal(count, index.Count);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal((true, true, i + 1L), Check(index, i, "export", T0.AddMinutes(i).AddTicks(-1)));
            Assert.Equal((true, false, i + 1L), Check(index, i, null, T0.AddMinutes(i)));
            Assert.Equal((true, false, i + 1L), Check(index, i, "api_access", T0));
        }
        // Loaded: an unknown subject, or a known name in another tenant, has no document.
        Assert.Equal((true, false, 0L), Check(index, count, null, T0));
        Assert.True(index.TryCheck(new SubjectKey("ten_c", Mode.Test, Subject(0).SubjectRef), null, T0, out var other, out var none));
        Assert.False(other);
        Assert.Equal(0, none);
    }

    [Fact]
    public void A_newer_version_replaces_an_entry_and_an_older_one_read_from_the_store_does_not()
    {
        var index = NewIndex();
        index.Record(Subject(1), PassUntil(1, T0.AddDays(1), version: 5));

        index.Load(Subject(1), 4, [(["export"], DateTimeOffset.MinValue)]);
        Assert.Equal((true, true, 5L), Check(index, 1, null, T0));

        index.Record(Subject(1), PassUntil(1, T0, version: 6));
        Assert.Equal((true, false, 6L), Check(index, 1, null, T0));
    }

    [Fact]
    public void Before_the_load_is_over_an_unknown_subject_is_left_to_the_store()
    {
        var index = NewIndex();
        index.Record(Subject(1), PassUntil(1, T0.AddDays(1), version: 1));

        Assert.Equal((false, false, 0L), Check(index, 2, null, T0));
        Assert.Equal((true, true, 1L), Check(index, 1, null, T0));
    }

    [Fact]
    public void Past_its_capacity_the_index_leaves_the_rest_to_the_store()
    {
        var index = NewIndex(capacity: 10);
        for (var i = 0; i < 20; i++) index.Record(Subject(i), PassUntil(i, T0.AddDays(1), version: 1));
        index.MarkLoaded(partial: false);

        Assert.False(index.IsComplete);
        Assert.Equal(10, index.Count);
        Assert.Equal(10, Enumerable.Range(0, 20).Count(i => Check(index, i, null, T0).Known));
        Assert.Equal((false, false, 0L), Check(index, 99, null, T0));
    }

    [Fact]
    public async Task Writers_and_readers_at_once_end_on_every_subjects_last_version()
    {
        const int subjects = 4_000, versions = 5;
        var index = NewIndex();
        index.MarkLoaded(partial: false);
        using var done = new CancellationTokenSource();

        var readers = Enumerable.Range(0, 2).Select(r => Task.Run(() =>
        {
            var seen = new long[subjects];
            var random = new Random(r);
            while (!done.IsCancellationRequested)
            {
                var i = random.Next(subjects);
                var (_, allowed, version) = Check(index, i, null, T0);
                Assert.True(version >= seen[i], $"subject {i}: version went back from {seen[i]} to {version}");
                // Odd versions are allowed, even ones are not: an answer must never mix two versions.
                Assert.Equal(version % 2 == 1, allowed);
                seen[i] = version;
            }
        })).ToList();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (var v = 1; v <= versions; v++)
            {
                for (var i = w; i < subjects; i += 4) index.Record(Subject(i), PassUntil(i, v % 2 == 1 ? T0.AddDays(1) : T0, version: v));
            }
        })).ToList();

        await Task.WhenAll(writers);
        await done.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Equal(subjects, index.Count);
        for (var i = 0; i < subjects; i++) Assert.Equal((true, true, (long)versions), Check(index, i, null, T0));
    }
}

using Licenzy.Infrastructure.Embedded;
using Licenzy.Infrastructure.State;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Licenzy.Infrastructure.Tests;

/// <summary>
/// Values written with a time to live (idempotency records) behave as Dapr's state TTL does: read
/// until they expire, absent after, "insert only" may write the key again, and the sweeper deletes
/// the rows so the file does not grow forever.
/// </summary>
public sealed class StateTimeToLiveTests : IDisposable
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);
    private readonly TempDataFolder _folder = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 4, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly IHost _host;
    private readonly IStateStore _store;

    public StateTimeToLiveTests()
    {
        _host = TestHost.Build(_folder, _clock);
        _store = _host.Services.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore);
    }

    public void Dispose()
    {
        _host.Dispose();
        _folder.Dispose();
    }

    private sealed record Record(string Body);

    private Task<bool> InsertAsync(string key, string body, TimeSpan? ttl = null) =>
        _store.TryTransactAsync([new StateOperation.Upsert(key, new Record(body), MustNotExist: true, TimeToLive: ttl)]);

    [Fact]
    public async Task A_value_is_read_until_its_time_to_live_has_passed_and_not_after()
    {
        Assert.True(await InsertAsync("idem", "first", Day));
        Assert.True(await InsertAsync("forever", "kept"));

        _clock.Advance(Day - TimeSpan.FromMilliseconds(1));
        Assert.Equal("first", (await _store.GetAsync<Record>("idem"))!.Value.Body);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(await _store.GetAsync<Record>("idem"));
        _clock.Advance(Day * 1000);
        Assert.Equal("kept", (await _store.GetAsync<Record>("forever"))!.Value.Body);
    }

    [Fact]
    public async Task Insert_only_takes_an_expired_key_and_an_etag_from_before_cannot_touch_the_new_value()
    {
        Assert.True(await InsertAsync("idem", "first", Day));
        var before = (await _store.GetAsync<Record>("idem"))!.ETag;
        Assert.False(await InsertAsync("idem", "too early", Day));

        _clock.Advance(Day);
        var written = await _store.TryTransactReturningETagsAsync(
            [new StateOperation.Upsert("idem", new Record("second"), MustNotExist: true, TimeToLive: Day)]);

        var after = Assert.Contains("idem", written!);
        Assert.NotEqual(before, after);
        Assert.Equal(after, (await _store.GetAsync<Record>("idem"))!.ETag);
        Assert.False(await _store.TrySaveAsync("idem", new Record("stale"), before));
        Assert.Equal("second", (await _store.GetAsync<Record>("idem"))!.Value.Body);
    }

    [Fact]
    public async Task An_expired_value_cannot_be_updated_by_its_etag()
    {
        Assert.True(await InsertAsync("idem", "first", Day));
        var etag = (await _store.GetAsync<Record>("idem"))!.ETag;

        _clock.Advance(Day);

        Assert.False(await _store.TryTransactAsync([new StateOperation.Upsert("idem", new Record("late"), etag, TimeToLive: Day)]));
        Assert.Null(await _store.GetAsync<Record>("idem"));
    }

    [Fact]
    public async Task The_sweeper_deletes_expired_rows_in_batches_and_nothing_else()
    {
        for (var i = 0; i < 2_500; i++) Assert.True(await InsertAsync($"idem-{i}", "x", i < 2_300 ? Day : Day * 3));
        Assert.True(await InsertAsync("forever", "kept"));
        var sweeper = _host.Services.GetRequiredService<ExpiredStateSweeper>();

        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));
        _clock.Advance(Day * 2);
        Assert.Equal(2_300, await sweeper.SweepAsync(CancellationToken.None));

        Assert.Equal(201L, await _folder.QueryAsync<long>("SELECT COUNT(*) FROM state;"));
        Assert.Equal("x", (await _store.GetAsync<Record>("idem-2300"))!.Value.Body);
        Assert.Equal("kept", (await _store.GetAsync<Record>("forever"))!.Value.Body);
    }

    [Fact]
    public async Task A_file_made_before_time_to_live_is_upgraded_with_its_rows_intact()
    {
        Directory.CreateDirectory(_folder.Path);
        await using (var old = new SqliteConnection($"Data Source={_folder.DatabaseFile};Pooling=False"))
        {
            await old.OpenAsync();
            await using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE state (store TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, etag INTEGER NOT NULL, PRIMARY KEY (store, key)) WITHOUT ROWID;
                INSERT INTO state (store, key, value, etag) VALUES ('licenzy-state', 'old', '{"body":"from before"}', 7);
                """;
            await create.ExecuteNonQueryAsync();
        }

        var stored = await _store.GetAsync<Record>("old");

        Assert.Equal(("from before", "7"), (stored!.Value.Body, stored.ETag));
        Assert.True(await InsertAsync("idem", "new", Day));
        _clock.Advance(Day);
        Assert.Null(await _store.GetAsync<Record>("idem"));
    }
}

using Licenzy.Infrastructure.Embedded;
using Licenzy.Infrastructure.State;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Licenzy.Infrastructure.Tests;

/// <summary>
/// Checkpoints run beside the writer: they must copy everything committed, let the WAL start
/// again, and lose nothing written while they run.
/// </summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly TempDataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task A_checkpoint_copies_every_committed_page_and_the_next_write_starts_the_WAL_again()
    {
        using var host = TestHost.Build(_folder);
        var database = host.Services.GetRequiredService<SqliteDatabase>();
        var store = host.Services.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore);
        await Task.WhenAll(Enumerable.Range(0, 300).Select(i => store.SaveAsync($"row|{i}", new Row(i, new string('x', 500)))));

        Assert.True(database.Checkpoint());
        await store.SaveAsync("row|after", new Row(-1, "after"));

        // Without the checkpoint the WAL would hold the 300 rows' pages and more.
        var pages = await WalPagesAsync();
        Assert.True(pages < 10, $"the WAL held {pages} pages after one more write: it did not start again");
        Assert.Equal(300, (await store.GetAsync<Row>("row|299"))!.Value.Number + 1);
    }

    [Fact]
    public async Task Writes_committed_while_checkpoints_run_are_all_there_also_after_a_restart()
    {
        const int Writes = 2_000;
        using (var host = TestHost.Build(_folder))
        {
            var database = host.Services.GetRequiredService<SqliteDatabase>();
            var store = host.Services.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore);
            using var stop = new CancellationTokenSource();
            var checkpoints = Task.Run(() =>
            {
                var rounds = 0;
                while (!stop.IsCancellationRequested)
                {
                    database.Checkpoint();
                    rounds++;
                }
                return rounds;
            });
            var writes = Enumerable.Range(0, Writes)
                .Select(i => Task.Run(() => store.TrySaveAsync($"row|{i:D5}", new Row(i, new string('y', 300)), etag: null)))
                .ToList();
            var saved = await Task.WhenAll(writes).WaitAsync(Guard.Timeout * 4);
            await stop.CancelAsync();
            Assert.True(await checkpoints > 0);
            Assert.All(saved, Assert.True);
        }
        SqliteConnection.ClearAllPools();

        using var restarted = TestHost.Build(_folder);
        var reopened = restarted.Services.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore);
        var rows = 0;
        await foreach (var page in ((IStateScanner)reopened).ScanAsync("row|", 500))
        {
            foreach (var (key, json) in page)
            {
                Assert.Contains($"\"number\":{int.Parse(key["row|".Length..], System.Globalization.CultureInfo.InvariantCulture)}", json);
                rows++;
            }
        }
        Assert.Equal(Writes, rows);
    }

    [Fact]
    public async Task A_checkpoint_before_any_write_finds_nothing_to_copy_and_breaks_nothing()
    {
        using var host = TestHost.Build(_folder);
        var database = host.Services.GetRequiredService<SqliteDatabase>();
        var store = host.Services.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore);

        Assert.True(database.Checkpoint());
        await store.SaveAsync("row|1", new Row(1, "one"));

        Assert.Equal(1, (await store.GetAsync<Row>("row|1"))!.Value.Number);
    }

    [Fact]
    public async Task The_checkpoint_thread_runs_by_itself_after_writes()
    {
        using var host = TestHost.Build(_folder);
        var database = host.Services.GetRequiredService<SqliteDatabase>();
        var store = host.Services.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore);

        await store.SaveAsync("row|1", new Row(1, "one"));

        Assert.True(SpinWait.SpinUntil(() => database.CompletedCheckpoints > 0, Guard.Timeout),
            "no checkpoint within the guard's time after a write");
    }

    /// <summary>How many pages the WAL holds, as SQLite reports it.</summary>
    private async Task<long> WalPagesAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={_folder.DatabaseFile};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        // Its answer is (busy, pages in the WAL, pages copied); copying does not change the count.
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return reader.GetInt64(1);
    }

    private sealed record Row(int Number, string Padding);
}

using System.Text.Json;
using Licenzy.Infrastructure.Embedded;
using Licenzy.Infrastructure.State;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Licenzy.Infrastructure.Tests;

public sealed class StateStoreTests : IDisposable
{
    private readonly TempDataFolder _folder = new();
    private readonly IHost _host;
    private readonly IStateStore _store;

    public StateStoreTests()
    {
        _host = TestHost.Build(_folder);
        _store = _host.Services.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore);
    }

    public void Dispose()
    {
        _host.Dispose();
        _folder.Dispose();
    }

    private sealed record Balance(int UnitsLeft, string Owner);

    [Fact]
    public async Task A_missing_key_reads_as_null()
    {
        Assert.Null(await _store.GetAsync<Balance>("nobody"));
    }

    [Fact]
    public async Task A_transaction_tells_the_etags_it_left_and_they_are_the_ones_the_store_checks()
    {
        var inserted = await _store.TryTransactReturningETagsAsync([new StateOperation.Upsert("subject", new Balance(10, "first"), MustNotExist: true)]);
        var afterInsert = Assert.Contains("subject", inserted!);
        Assert.Equal(afterInsert, (await _store.GetAsync<Balance>("subject"))!.ETag);

        var updated = await _store.TryTransactReturningETagsAsync([new StateOperation.Upsert("subject", new Balance(9, "first"), afterInsert)]);
        var afterUpdate = Assert.Contains("subject", updated!);
        Assert.Equal(afterUpdate, (await _store.GetAsync<Balance>("subject"))!.ETag);

        // The older ETag is refused, and a refused transaction tells nothing and writes nothing.
        Assert.Null(await _store.TryTransactReturningETagsAsync([new StateOperation.Upsert("subject", new Balance(1, "stale"), afterInsert)]));
        Assert.True(await _store.TrySaveAsync("subject", new Balance(8, "first"), afterUpdate));
        Assert.Equal(new Balance(8, "first"), (await _store.GetAsync<Balance>("subject"))!.Value);
    }

    [Fact]
    public async Task A_save_without_an_etag_only_inserts()
    {
        Assert.True(await _store.TrySaveAsync("subject", new Balance(10, "first"), etag: null));
        Assert.False(await _store.TrySaveAsync("subject", new Balance(99, "second"), etag: null));

        var stored = await _store.GetAsync<Balance>("subject");
        Assert.Equal(new Balance(10, "first"), stored!.Value);
        Assert.Equal("subject", stored.Key);
    }

    [Fact]
    public async Task A_save_with_the_current_etag_wins_and_a_stale_etag_writes_nothing()
    {
        await _store.TrySaveAsync("subject", new Balance(10, "a"), etag: null);
        var first = (await _store.GetAsync<Balance>("subject"))!;

        Assert.True(await _store.TrySaveAsync("subject", new Balance(9, "b"), first.ETag));
        var second = (await _store.GetAsync<Balance>("subject"))!;
        Assert.NotEqual(first.ETag, second.ETag);

        Assert.False(await _store.TrySaveAsync("subject", new Balance(0, "stale"), first.ETag));
        Assert.False(await _store.TrySaveAsync("subject", new Balance(0, "garbage"), "not-an-etag"));
        Assert.Equal(new Balance(9, "b"), (await _store.GetAsync<Balance>("subject"))!.Value);
    }

    [Fact]
    public async Task A_save_with_an_etag_on_a_missing_key_fails()
    {
        Assert.False(await _store.TrySaveAsync("nobody", new Balance(1, "x"), "1"));
        Assert.Null(await _store.GetAsync<Balance>("nobody"));
    }

    [Fact]
    public async Task An_unconditional_save_overwrites_and_moves_the_etag_on()
    {
        await _store.SaveAsync("subject", new Balance(1, "a"));
        var first = (await _store.GetAsync<Balance>("subject"))!;
        await _store.SaveAsync("subject", new Balance(2, "b"));
        var second = (await _store.GetAsync<Balance>("subject"))!;

        Assert.Equal(new Balance(2, "b"), second.Value);
        Assert.NotEqual(first.ETag, second.ETag);
        Assert.False(await _store.TrySaveAsync("subject", new Balance(3, "c"), first.ETag));
    }

    [Fact]
    public async Task A_delete_checks_the_etag_when_given_one()
    {
        await _store.SaveAsync("subject", new Balance(1, "a"));
        var first = (await _store.GetAsync<Balance>("subject"))!;
        await _store.SaveAsync("subject", new Balance(2, "b"));

        Assert.False(await _store.TryDeleteAsync("subject", first.ETag));
        Assert.NotNull(await _store.GetAsync<Balance>("subject"));

        var current = (await _store.GetAsync<Balance>("subject"))!;
        Assert.True(await _store.TryDeleteAsync("subject", current.ETag));
        Assert.Null(await _store.GetAsync<Balance>("subject"));

        Assert.True(await _store.TryDeleteAsync("never-there"));
    }

    [Fact]
    public async Task A_transaction_whose_third_check_fails_writes_nothing()
    {
        await _store.SaveAsync("existing", new Balance(5, "before"));

        var applied = await _store.TryTransactAsync(
        [
            new StateOperation.Upsert("one", new Balance(1, "tx")),
            new StateOperation.Upsert("two", new Balance(2, "tx"), MustNotExist: true),
            new StateOperation.Upsert("existing", new Balance(3, "tx"), ETag: "999"),
        ]);

        Assert.False(applied);
        Assert.Null(await _store.GetAsync<Balance>("one"));
        Assert.Null(await _store.GetAsync<Balance>("two"));
        Assert.Equal(new Balance(5, "before"), (await _store.GetAsync<Balance>("existing"))!.Value);
    }

    [Fact]
    public async Task A_transaction_applies_every_kind_of_operation_together()
    {
        await _store.SaveAsync("update-me", new Balance(1, "old"));
        await _store.SaveAsync("delete-me", new Balance(1, "old"));
        var updateMe = (await _store.GetAsync<Balance>("update-me"))!;
        var deleteMe = (await _store.GetAsync<Balance>("delete-me"))!;

        var applied = await _store.TryTransactAsync(
        [
            new StateOperation.Upsert("insert-me", new Balance(7, "new"), MustNotExist: true),
            new StateOperation.Upsert("update-me", new Balance(8, "new"), updateMe.ETag),
            new StateOperation.Upsert("overwrite-me", new Balance(9, "new")),
            new StateOperation.Delete("delete-me", deleteMe.ETag),
        ]);

        Assert.True(applied);
        Assert.Equal(new Balance(7, "new"), (await _store.GetAsync<Balance>("insert-me"))!.Value);
        Assert.Equal(new Balance(8, "new"), (await _store.GetAsync<Balance>("update-me"))!.Value);
        Assert.Equal(new Balance(9, "new"), (await _store.GetAsync<Balance>("overwrite-me"))!.Value);
        Assert.Null(await _store.GetAsync<Balance>("delete-me"));
    }

    [Fact]
    public async Task Operations_in_a_transaction_see_the_ones_before_them()
    {
        var applied = await _store.TryTransactAsync(
        [
            new StateOperation.Upsert("twice", new Balance(1, "first"), MustNotExist: true),
            new StateOperation.Upsert("twice", new Balance(2, "second"), MustNotExist: true),
        ]);

        Assert.False(applied);
        Assert.Null(await _store.GetAsync<Balance>("twice"));
    }

    [Fact]
    public async Task A_delete_with_a_stale_etag_fails_the_whole_transaction()
    {
        await _store.SaveAsync("keep", new Balance(1, "a"));
        var applied = await _store.TryTransactAsync(
        [
            new StateOperation.Upsert("new", new Balance(1, "tx")),
            new StateOperation.Delete("keep", ETag: "999"),
        ]);

        Assert.False(applied);
        Assert.Null(await _store.GetAsync<Balance>("new"));
        Assert.NotNull(await _store.GetAsync<Balance>("keep"));
    }

    [Fact]
    public async Task A_contradictory_operation_is_rejected_before_anything_is_written()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _store.TryTransactAsync(
        [
            new StateOperation.Upsert("a", new Balance(1, "x")),
            new StateOperation.Upsert("b", new Balance(1, "x"), ETag: "1", MustNotExist: true),
        ]));
        Assert.Null(await _store.GetAsync<Balance>("a"));
    }

    [Fact]
    public async Task Values_are_stored_as_licenzy_json()
    {
        await _store.SaveAsync("subject", new Balance(3, "me"));

        var raw = (await _store.GetAsync<JsonElement>("subject"))!.Value;
        Assert.Equal(3, raw.GetProperty("units_left").GetInt32());
        Assert.Equal("me", raw.GetProperty("owner").GetString());
    }

    [Fact]
    public async Task Stores_are_separate_and_only_known_stores_exist()
    {
        var factory = _host.Services.GetRequiredService<IStateStoreFactory>();
        var events = factory.Get(Components.EventStore);
        await _store.SaveAsync("same-key", new Balance(1, "state"));
        await events.SaveAsync("same-key", new Balance(2, "events"));

        Assert.Equal("state", (await _store.GetAsync<Balance>("same-key"))!.Value.Owner);
        Assert.Equal("events", (await events.GetAsync<Balance>("same-key"))!.Value.Owner);

        var error = Assert.Throws<ArgumentException>(() => factory.Get("licenzy-stat"));
        Assert.Contains("licenzy-stat", error.Message);
    }

    [Fact]
    public async Task Concurrent_etag_checked_writers_never_lose_an_update()
    {
        await _store.SaveAsync("counter", 0);

        async Task IncrementAsync()
        {
            while (true)
            {
                var current = (await _store.GetAsync<int>("counter"))!;
                if (await _store.TrySaveAsync("counter", current.Value + 1, current.ETag)) return;
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(IncrementAsync)));
        Assert.Equal(50, (await _store.GetAsync<int>("counter"))!.Value);
    }

    [Fact]
    public async Task Concurrent_writes_that_fail_their_checks_are_undone_alone()
    {
        await _store.TrySaveAsync("taken", new Balance(1, "owner"), etag: null);

        // Issued together, so many of them share a commit: the failed ones must leave no trace
        // there, and must not undo their neighbours.
        var writes = Enumerable.Range(0, 200).Select(i => i % 2 == 0
            ? _store.TrySaveAsync($"good-{i}", new Balance(i, "good"), etag: null)
            : _store.TryTransactAsync(
            [
                new StateOperation.Upsert($"undone-{i}", new Balance(i, "undone"), MustNotExist: true),
                new StateOperation.Upsert("taken", new Balance(0, "thief"), MustNotExist: true),
            ]));
        var results = await Task.WhenAll(writes);

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(i % 2 == 0, results[i]);
            if (i % 2 == 0) Assert.Equal(new Balance(i, "good"), (await _store.GetAsync<Balance>($"good-{i}"))!.Value);
            else Assert.Null(await _store.GetAsync<Balance>($"undone-{i}"));
        }
        Assert.Equal(new Balance(1, "owner"), (await _store.GetAsync<Balance>("taken"))!.Value);
    }

    [Fact]
    public async Task A_statement_that_fails_fails_its_write_alone_with_the_sqlite_error()
    {
        var database = _host.Services.GetRequiredService<SqliteDatabase>();

        // Issued together so that they share commits: every odd write stores a row, then breaks a
        // NOT NULL constraint in a second statement. Its row must go with it; its neighbours stay.
        var writes = Enumerable.Range(0, 100).Select(i => i % 2 == 0
            ? _store.TrySaveAsync($"good-{i}", new Balance(i, "good"), etag: null)
            : database.WriteAsync((transaction, _) =>
            {
                StateRows.Upsert(transaction, Components.StateStore, $"undone-{i}", """{"units_left":1,"owner":"undone"}"""u8.ToArray(), null);
                PreparedStatement.For(transaction, "INSERT INTO state (store, key, value, etag) VALUES (?1, ?2, NULL, 1);")
                    .Bind(1, Components.StateStore).Bind(2, $"broken-{i}")
                    .Execute();
                return Task.CompletedTask;
            }, CancellationToken.None).ContinueWith(task => task.Exception?.InnerException is SqliteException { SqliteErrorCode: 19 }))
            .ToArray();
        var results = await Task.WhenAll(writes);

        Assert.All(results, Assert.True);
        for (var i = 0; i < 100; i++)
        {
            if (i % 2 == 0) Assert.Equal(new Balance(i, "good"), (await _store.GetAsync<Balance>($"good-{i}"))!.Value);
            else Assert.Null(await _store.GetAsync<Balance>($"undone-{i}"));
        }

        // The statements are reset after the error: the same ones work for the next write.
        Assert.True(await _store.TrySaveAsync("after", new Balance(1, "next"), etag: null));
        Assert.Equal(new Balance(1, "next"), (await _store.GetAsync<Balance>("after"))!.Value);
    }

    [Fact]
    public async Task A_commit_that_fails_fails_its_caller_and_later_writes_still_commit()
    {
        var database = _host.Services.GetRequiredService<SqliteDatabase>();

        // The write ends the transaction itself, so the commit after it cannot succeed.
        var failing = database.WriteAsync(async (transaction, ct) =>
        {
            await using var end = transaction.Connection!.Command("ROLLBACK;");
            await end.ExecuteNonQueryAsync(ct);
        }, CancellationToken.None);

        // Bounded, so that a caller left waiting fails the test instead of hanging it.
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(await _store.TrySaveAsync("after", new Balance(1, "next"), etag: null));
        Assert.Equal(new Balance(1, "next"), (await _store.GetAsync<Balance>("after"))!.Value);
    }
}

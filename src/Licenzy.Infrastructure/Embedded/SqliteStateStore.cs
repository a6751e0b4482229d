using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Licenzy.Infrastructure.State;
using Microsoft.Data.Sqlite;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>Hands out the stores that live in the <c>state</c> table, one per component name.</summary>
internal sealed class SqliteStateStoreFactory(SqliteDatabase database, TimeProvider clock) : IStateStoreFactory
{
    private readonly ConcurrentDictionary<string, SqliteStateStore> _stores = new(StringComparer.Ordinal);

    public IStateStore Get(string storeName)
    {
        StateStoreNames.EnsureKnown(storeName);
        return _stores.GetOrAdd(storeName, name => new SqliteStateStore(database, name, clock));
    }
}

/// <summary>
/// Only the component names that exist in components/ are served, so a misspelt store fails
/// here too rather than only once the app runs on Dapr.
/// </summary>
internal static class StateStoreNames
{
    private static readonly string[] Known = [Components.StateStore, Components.EventStore];

    public static void EnsureKnown(string storeName)
    {
        ArgumentException.ThrowIfNullOrEmpty(storeName);
        if (!Known.Contains(storeName, StringComparer.Ordinal))
        {
            throw new ArgumentException(
                $"There is no state store named '{storeName}'. Known stores: {string.Join(", ", Known)}.",
                nameof(storeName));
        }
    }
}

/// <summary>
/// One named store: rows of the <c>state</c> table whose ETag is the row's version. A row written
/// with a time to live carries <c>expires_at</c> (Unix milliseconds); from then on it is as if
/// absent, and <see cref="ExpiredStateSweeper"/> deletes it.
/// </summary>
internal sealed class SqliteStateStore(SqliteDatabase database, string storeName, TimeProvider clock) : IStateStore, IStateScanner
{
    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    private long? ExpiresAt(TimeSpan? timeToLive) =>
        timeToLive is { } ttl ? clock.GetUtcNow().Add(ttl).ToUnixTimeMilliseconds() : null;

    public async IAsyncEnumerable<IReadOnlyList<(string Key, string Json)>> ScanAsync(string keyPrefix, int pageSize,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyPrefix);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageSize);
        // Keys compare as bytes; the first string past every key with the prefix ends the range.
        var end = keyPrefix[..^1] + (char)(keyPrefix[^1] + 1);
        var after = keyPrefix;
        while (true)
        {
            var from = after;
            var page = await database.ReadAsync<List<(string, string)>>(async (connection, token) =>
            {
                await using var command = connection
                    .Command("""
                        SELECT key, value FROM state
                        WHERE store = $store AND key > $from AND key < $end AND (expires_at IS NULL OR expires_at > $now)
                        ORDER BY key LIMIT $limit;
                        """)
                    .With("$now", Now)
                    .With("$store", storeName)
                    .With("$from", from)
                    .With("$end", end)
                    .With("$limit", pageSize);
                await using var reader = await command.ExecuteReaderAsync(token);
                var rows = new List<(string, string)>(pageSize);
                while (await reader.ReadAsync(token)) rows.Add((reader.GetString(0), reader.GetString(1)));
                return rows;
            }, cancellationToken);
            if (page.Count == 0) yield break;
            yield return page;
            if (page.Count < pageSize) yield break;
            after = page[^1].Item1;
        }
    }

    public Task<StateEntry<T>?> GetAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return database.ReadAsync<StateEntry<T>?>(async (connection, token) =>
        {
            await using var command = connection
                .Command("SELECT value, etag FROM state WHERE store = $store AND key = $key AND (expires_at IS NULL OR expires_at > $now);")
                .With("$now", Now)
                .With("$store", storeName)
                .With("$key", key);
            await using var reader = await command.ExecuteReaderAsync(token);
            if (!await reader.ReadAsync(token)) return null;

            var value = JsonSerializer.Deserialize<T>(reader.GetString(0), LicenzyJson.Options)!;
            return new StateEntry<T>(key, value, StateRows.FormatETag(reader.GetInt64(1)));
        }, cancellationToken);
    }

    public Task<bool> TrySaveAsync<T>(string key, T value, string? etag, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var json = JsonSerializer.SerializeToUtf8Bytes(value, LicenzyJson.Options);
        return database.TryWriteAsync((transaction, _) => Task.FromResult(etag is null
                ? StateRows.TryInsert(transaction, storeName, key, json, null, Now) is not null
                : StateRows.TryUpdate(transaction, storeName, key, json, etag, null, Now)),
            cancellationToken);
    }

    public Task SaveAsync<T>(string key, T value, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var json = JsonSerializer.SerializeToUtf8Bytes(value, LicenzyJson.Options);
        return database.WriteAsync((transaction, _) =>
        {
            StateRows.Upsert(transaction, storeName, key, json, null);
            return Task.CompletedTask;
        }, cancellationToken);
    }

    public Task<bool> TryDeleteAsync(string key, string? etag = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return database.TryWriteAsync(
            (transaction, _) => Task.FromResult(StateRows.TryDelete(transaction, storeName, key, etag)),
            cancellationToken);
    }

    public async Task<bool> TryTransactAsync(IReadOnlyList<StateOperation> operations,
        CancellationToken cancellationToken = default) =>
        await TryTransactReturningETagsAsync(operations, cancellationToken) is not null;

    public Task<IReadOnlyDictionary<string, string>?> TryTransactReturningETagsAsync(IReadOnlyList<StateOperation> operations,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operations);

        // Serialise before taking the write lock, and reject malformed operations before writing anything.
        var writes = operations.Select(PrepareWrite).ToList();
        if (writes.Count == 0) return Task.FromResult<IReadOnlyDictionary<string, string>?>(new Dictionary<string, string>());

        return database.TryWriteAsync<IReadOnlyDictionary<string, string>?>((transaction, _) =>
        {
            // In order, so a later operation sees the earlier ones; the first failed check rolls back all.
            var etags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var write in writes)
            {
                var (done, version) = write.Run(transaction);
                if (!done) return Task.FromResult<IReadOnlyDictionary<string, string>?>(null);
                if (version is { } known) etags[write.Key] = StateRows.FormatETag(known);
                else etags.Remove(write.Key);
            }
            return Task.FromResult<IReadOnlyDictionary<string, string>?>(etags);
        }, static etags => etags is not null, cancellationToken);
    }

    /// <summary>One operation, ready to run: whether it passed its check, and the key's version after it when known.</summary>
    private sealed record PreparedWrite(string Key, Func<SqliteTransaction, (bool Done, long? Version)> Run);

    private PreparedWrite PrepareWrite(StateOperation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentException.ThrowIfNullOrEmpty(operation.Key);
        var key = operation.Key;

        switch (operation)
        {
            case StateOperation.Upsert upsert:
            {
                if (upsert.ETag is not null && upsert.MustNotExist)
                    throw new ArgumentException($"Upsert of '{key}' has an ETag and MustNotExist; a key cannot both exist and not exist.");
                ArgumentNullException.ThrowIfNull(upsert.Value);
                var json = JsonSerializer.SerializeToUtf8Bytes(upsert.Value, upsert.Value.GetType(), LicenzyJson.Options);

                var expiresAt = ExpiresAt(upsert.TimeToLive);
                if (upsert.MustNotExist)
                    return new(key, transaction =>
                        StateRows.TryInsert(transaction, storeName, key, json, expiresAt, Now) is { } version ? (true, version) : (false, null));
                if (upsert.ETag is { } etag)
                    return new(key, transaction =>
                        (StateRows.TryUpdate(transaction, storeName, key, json, etag, expiresAt, Now), StateRows.VersionAfterUpdate(etag)));
                return new(key, transaction =>
                {
                    StateRows.Upsert(transaction, storeName, key, json, expiresAt);
                    return (true, null);
                });
            }
            case StateOperation.Delete delete:
                return new(key, transaction => (StateRows.TryDelete(transaction, storeName, key, delete.ETag), null));
            default:
                throw new ArgumentException($"Unknown state operation {operation.GetType().Name}.", nameof(operation));
        }
    }
}

/// <summary>
/// The statements on the <c>state</c> table, shared by the state store and the outbox store. Each
/// returns false, having changed nothing, when its concurrency check fails.
/// </summary>
internal static class StateRows
{
    public static string FormatETag(long version) => version.ToString(CultureInfo.InvariantCulture);

    /// <summary>The version of a row after <see cref="TryUpdate"/> succeeded with <paramref name="etag"/>.</summary>
    public static long? VersionAfterUpdate(string etag) => TryParseETag(etag, out var version) ? version + 1 : null;

    /// <summary>
    /// Insert only: the new row's version, or null when the key exists. A row past its
    /// <c>expires_at</c> counts as absent and is replaced, its version carried on so that an ETag
    /// read before it expired cannot match the new value.
    /// </summary>
    public static long? TryInsert(SqliteTransaction transaction, string store, string key, byte[] json, long? expiresAt, long now)
    {
        return PreparedStatement.For(transaction, """
                INSERT INTO state (store, key, value, etag, expires_at) VALUES (?1, ?2, ?3, 1, ?4)
                ON CONFLICT (store, key) DO UPDATE SET value = excluded.value, etag = state.etag + 1, expires_at = excluded.expires_at
                    WHERE state.expires_at IS NOT NULL AND state.expires_at <= ?5
                RETURNING etag;
                """)
            .Bind(1, store).Bind(2, key).BindUtf8(3, json).Bind(4, expiresAt).Bind(5, now)
            .ExecuteInt64();
    }

    /// <summary>Update only if the stored version is <paramref name="etag"/> and the row has not expired.</summary>
    public static bool TryUpdate(SqliteTransaction transaction, string store, string key, byte[] json, string etag, long? expiresAt,
        long now)
    {
        // An ETag we never issued cannot match any row.
        if (!TryParseETag(etag, out var version)) return false;

        return PreparedStatement.For(transaction, """
                UPDATE state SET value = ?3, etag = etag + 1, expires_at = ?5
                WHERE store = ?1 AND key = ?2 AND etag = ?4 AND (expires_at IS NULL OR expires_at > ?6);
                """)
            .Bind(1, store).Bind(2, key).BindUtf8(3, json).Bind(4, version).Bind(5, expiresAt).Bind(6, now)
            .Execute() == 1;
    }

    /// <summary>Last write wins.</summary>
    public static void Upsert(SqliteTransaction transaction, string store, string key, byte[] json, long? expiresAt)
    {
        PreparedStatement.For(transaction, """
                INSERT INTO state (store, key, value, etag, expires_at) VALUES (?1, ?2, ?3, 1, ?4)
                ON CONFLICT (store, key) DO UPDATE SET value = excluded.value, etag = state.etag + 1, expires_at = excluded.expires_at;
                """)
            .Bind(1, store).Bind(2, key).BindUtf8(3, json).Bind(4, expiresAt)
            .Execute();
    }

    /// <summary>Without an ETag always succeeds (deleting a missing key is fine); with one, only on a match.</summary>
    public static bool TryDelete(SqliteTransaction transaction, string store, string key, string? etag)
    {
        if (etag is null)
        {
            PreparedStatement.For(transaction, "DELETE FROM state WHERE store = ?1 AND key = ?2;").Bind(1, store).Bind(2, key).Execute();
            return true;
        }

        if (!TryParseETag(etag, out var version)) return false;
        return PreparedStatement.For(transaction, "DELETE FROM state WHERE store = ?1 AND key = ?2 AND etag = ?3;")
            .Bind(1, store).Bind(2, key).Bind(3, version)
            .Execute() == 1;
    }

    private static bool TryParseETag(string etag, out long version) =>
        long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out version);
}

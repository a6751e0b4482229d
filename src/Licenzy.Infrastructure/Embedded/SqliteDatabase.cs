using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>
/// The one SQLite file behind the embedded components. Readers run side by side (WAL); writers
/// queue on one in-process gate and take SQLite's write lock at BEGIN (IMMEDIATE), so other
/// processes on the same file wait their turn instead of failing halfway through a transaction.
/// The writer keeps one connection open, with its pragmas set once and its statements prepared
/// once (<see cref="PreparedStatement"/>). Checkpoints, which copy the WAL's pages back into the
/// database file, run on a thread of their own (<see cref="Checkpoint"/>) rather than inside the
/// writer's commits.
/// </summary>
internal sealed class SqliteDatabase : IDisposable
{
    public const string FileName = "licenzy.db";

    // How long a statement waits for another process's write lock before giving up.
    private const int BusyTimeoutMilliseconds = 10_000;

    // The writer's page cache (SQLite's default is 2 MiB). The writer keeps its connection, so the
    // B-tree pages it updates stay cached instead of being read again with pread for every write;
    // pages are only allocated as they are used.
    private const int WriterCacheKibibytes = 32 * 1024;

    // Writes committed together at most; a bound on how long the first of them waits.
    private const int MaxBatch = 256;
    private const string Savepoint = "licenzy_write";

    // A checkpoint copies each page once however often the WAL holds it, and the subjects' pages
    // are written again and again; so checkpoints come after this many committed writes (about
    // twice as many WAL pages), or a second after the first write since the last one.
    private const int CheckpointAfterWrites = 4_000;
    private static readonly TimeSpan CheckpointAtLeastEvery = TimeSpan.FromSeconds(1);

    // The writer's own checkpoint, as SQLite runs it at the end of a commit, only as a bound on the
    // WAL should the checkpoint thread fall behind (SQLite's default is 1,000 pages).
    private const int WriterCheckpointPages = 20_000;

    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private int _writerStarted;
    // Only the write loop touches it; replaced after a failed commit.
    private SqliteConnection? _writerConnection;
    private readonly SemaphoreSlim _initializeGate = new(1, 1);
    private volatile bool _initialized;

    private readonly ILogger<SqliteDatabase> _log;
    private readonly AutoResetEvent _checkpointDue = new(false);
    private int _writesSinceCheckpoint;
    private volatile bool _disposed;
    // Used under _checkpointLock: by the checkpoint thread, or a test calling Checkpoint.
    private SqliteConnection? _checkpointConnection;
    private readonly Lock _checkpointLock = new();
    private int _completedCheckpoints;

    public SqliteDatabase(IOptions<ComponentsOptions> options, ILogger<SqliteDatabase>? log = null)
    {
        _log = log ?? NullLogger<SqliteDatabase>.Instance;
        FolderPath = Path.GetFullPath(options.Value.DataPath);
        FilePath = Path.Combine(FolderPath, FileName);
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = BusyTimeoutMilliseconds / 1000,
        }.ToString();
    }

    public string FolderPath { get; }

    public string FilePath { get; }

    public string ConnectionString { get; }

    /// <summary>Creates the folder, the file and the schema once per process; safe to repeat.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_initialized) return;
        await _initializeGate.WaitAsync(cancellationToken);
        try
        {
            if (_initialized) return;
            Directory.CreateDirectory(FolderPath);
            await using var connection = await OpenConfiguredAsync(cancellationToken);

            // Persistent in the file; must run outside a transaction.
            await using (var journal = connection.CreateCommand())
            {
                journal.CommandText = "PRAGMA journal_mode = WAL;";
                await journal.ExecuteNonQueryAsync(cancellationToken);
            }

            await _writeGate.WaitAsync(cancellationToken);
            try
            {
                await using var transaction = connection.BeginTransaction(deferred: false);
                await using (var schema = transaction.Command(SqliteSchema.Create))
                    await schema.ExecuteNonQueryAsync(cancellationToken);
                await SqliteSchema.UpgradeAsync(transaction, cancellationToken);
                await transaction.CommitAsync(CancellationToken.None);
            }
            finally
            {
                _writeGate.Release();
            }

            _initialized = true;
        }
        finally
        {
            _initializeGate.Release();
        }
    }

    /// <summary>Runs a read on its own pooled connection, concurrently with other readers.</summary>
    public async Task<T> ReadAsync<T>(Func<SqliteConnection, CancellationToken, Task<T>> read,
        CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        // Readers need neither pragma: synchronous only matters to commits, and a busy file is
        // retried up to the connection string's default timeout.
        await using var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return await read(connection, cancellationToken);
    }

    /// <summary>Runs <paramref name="write"/> in one write transaction and commits it.</summary>
    public Task WriteAsync(Func<SqliteTransaction, CancellationToken, Task> write, CancellationToken cancellationToken) =>
        RunWriteAsync(async (transaction, token) =>
        {
            await write(transaction, token);
            return true;
        }, static _ => true, cancellationToken);

    /// <summary>Runs <paramref name="write"/> in one write transaction, commits it, and returns its result.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteTransaction, CancellationToken, Task<T>> write,
        CancellationToken cancellationToken) =>
        RunWriteAsync(write, static _ => true, cancellationToken);

    /// <summary>
    /// Runs <paramref name="write"/> in one write transaction; commits when it returns true and
    /// rolls everything back when it returns false.
    /// </summary>
    public Task<bool> TryWriteAsync(Func<SqliteTransaction, CancellationToken, Task<bool>> write,
        CancellationToken cancellationToken) =>
        RunWriteAsync(write, static commit => commit, cancellationToken);

    /// <summary>
    /// Runs <paramref name="write"/> in one write transaction; commits when <paramref name="shouldCommit"/>
    /// says so of its result and rolls everything back otherwise. Returns the result either way.
    /// </summary>
    public Task<T> TryWriteAsync<T>(Func<SqliteTransaction, CancellationToken, Task<T>> write, Func<T, bool> shouldCommit,
        CancellationToken cancellationToken) =>
        RunWriteAsync(write, shouldCommit, cancellationToken);

    /// <summary>
    /// Group commit. Writes queue up; one writer takes every write waiting, runs each in a
    /// savepoint of one transaction (a write that says no, or throws, is rolled back alone), and
    /// commits them all with one fsync. Each caller hears its outcome only after that commit, so
    /// every write is as durable as before, and concurrent writers share the cost of the sync
    /// instead of queueing for one each.
    /// </summary>
    private async Task<T> RunWriteAsync<T>(Func<SqliteTransaction, CancellationToken, Task<T>> write,
        Func<T, bool> shouldCommit, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken);
        var pending = new PendingWrite<T>(write, shouldCommit, cancellationToken);
        if (!_writes.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(SqliteDatabase));
        EnsureWriter();
        return await pending.Outcome(cancellationToken);
    }

    private void EnsureWriter()
    {
        if (Volatile.Read(ref _writerStarted) == 1 || Interlocked.Exchange(ref _writerStarted, 1) == 1) return;
        // A thread of its own, blocking while idle: woken by the OS when a write arrives, rather than
        // queued behind the requests' work items on the thread pool when the cores are busy.
        new Thread(WriteLoop) { IsBackground = true, Name = "licenzy-sqlite-writer" }.Start();
        new Thread(CheckpointLoop) { IsBackground = true, Name = "licenzy-sqlite-checkpoint" }.Start();
    }

    /// <summary>
    /// Stops taking writes; the writer finishes those queued and closes its connection, and the
    /// checkpoint thread stops (SQLite checkpoints what is left when the last connection closes).
    /// </summary>
    public void Dispose()
    {
        _disposed = true;
        _writes.Writer.TryComplete();
        _checkpointDue.Set();
    }

    /// <summary>Counts committed writes and wakes the checkpoint thread for the first one and at the threshold.</summary>
    private void Committed(int writes)
    {
        var after = Interlocked.Add(ref _writesSinceCheckpoint, writes);
        var before = after - writes;
        if (before == 0 || (before < CheckpointAfterWrites && after >= CheckpointAfterWrites)) _checkpointDue.Set();
    }

    private void CheckpointLoop()
    {
        try
        {
            while (!_disposed)
            {
                // Idle until something is written, then until the threshold or a second later.
                _checkpointDue.WaitOne();
                if (_disposed) break;
                if (Volatile.Read(ref _writesSinceCheckpoint) < CheckpointAfterWrites)
                    _checkpointDue.WaitOne(CheckpointAtLeastEvery);
                if (_disposed) break;
                Interlocked.Exchange(ref _writesSinceCheckpoint, 0);
                try
                {
                    if (Checkpoint()) Interlocked.Increment(ref _completedCheckpoints);
                }
                catch (Exception exception)
                {
                    // Never the end of the thread (nor, unhandled, of the process): the next round, or
                    // the writer's own checkpoint, copies what this one could not, on a fresh connection.
                    _log.LogWarning(exception, "Checkpointing {File} failed; trying again after the next writes", FilePath);
                    CloseCheckpointConnection();
                }
            }
        }
        finally
        {
            CloseCheckpointConnection();
        }
    }

    private void CloseCheckpointConnection()
    {
        lock (_checkpointLock)
        {
            _checkpointConnection?.Dispose();
            _checkpointConnection = null;
        }
    }

    /// <summary>How many of the checkpoint thread's rounds copied the whole WAL.</summary>
    internal int CompletedCheckpoints => Volatile.Read(ref _completedCheckpoints);

    /// <summary>
    /// Copies the WAL's pages into the database file in two passes. The first runs beside the
    /// writer, which goes on committing; the second holds the writer off and copies only what was
    /// committed during the first, so that the WAL is then wholly copied and the next commit
    /// starts it again from its beginning (unless a reader still needs its older pages). Returns
    /// whether every page in the WAL was copied.
    /// </summary>
    internal bool Checkpoint()
    {
        // The thread only starts after the first write, but a caller may come before any: the file must exist.
        InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        lock (_checkpointLock)
        {
            var connection = _checkpointConnection ??= OpenConfiguredAsync(CancellationToken.None).GetAwaiter().GetResult();
            if (CheckpointPass(connection)) return true;
            _writeGate.Wait(CancellationToken.None);
            try
            {
                return CheckpointPass(connection);
            }
            finally
            {
                _writeGate.Release();
            }
        }
    }

    /// <summary>One passive checkpoint: whether it found every page of the WAL copied at its end.</summary>
    private static bool CheckpointPass(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return false;
        // busy, pages in the WAL, pages of it copied.
        return reader.GetInt64(0) == 0 && reader.GetInt64(1) == reader.GetInt64(2);
    }

    private void WriteLoop()
    {
        try
        {
            var batch = new List<PendingWrite>(MaxBatch);
            // Blocking on purpose (see EnsureWriter). Microsoft.Data.Sqlite runs its "async" calls
            // synchronously, so a batch normally runs start to finish on this thread too.
            while (_writes.Reader.WaitToReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult())
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _writes.Reader.TryRead(out var next))
                {
                    if (next.TryStart()) batch.Add(next);
                }
                if (batch.Count == 0) continue;

                _writeGate.Wait(CancellationToken.None);
                try
                {
                    if (CommitBatchAsync(batch).GetAwaiter().GetResult()) Committed(batch.Count);
                }
                finally
                {
                    _writeGate.Release();
                }
            }
        }
        finally
        {
            _writerConnection?.Dispose();
            _writerConnection = null;
        }
    }

    /// <summary>Runs and commits one group; false when nothing of it was committed.</summary>
    private async Task<bool> CommitBatchAsync(List<PendingWrite> batch)
    {
        try
        {
            var connection = _writerConnection ??= await OpenConfiguredAsync(CancellationToken.None);
            await using var transaction = connection.BeginTransaction(deferred: false);
            if (batch.Count == 1)
            {
                // Alone: the transaction is the write's own, no savepoint needed.
                var write = batch[0];
                bool commit;
                try
                {
                    commit = await write.RunAsync(transaction);
                }
                catch (Exception exception)
                {
                    write.Fail(exception);
                    commit = false;
                }
                if (commit) await transaction.CommitAsync(CancellationToken.None);
                else await transaction.RollbackAsync(CancellationToken.None);
            }
            else
            {
                foreach (var write in batch)
                {
                    // Taken again for each write: the write's own statements may not disturb them, but be sure of the transaction.
                    PreparedStatement.For(transaction, $"SAVEPOINT {Savepoint};").Execute();
                    try
                    {
                        if (!await write.RunAsync(transaction))
                            PreparedStatement.For(transaction, $"ROLLBACK TO {Savepoint};").Execute();
                    }
                    catch (Exception exception)
                    {
                        write.Fail(exception);
                        PreparedStatement.For(transaction, $"ROLLBACK TO {Savepoint};").Execute();
                    }
                    PreparedStatement.For(transaction, $"RELEASE {Savepoint};").Execute();
                }
                await transaction.CommitAsync(CancellationToken.None);
            }
        }
        catch (Exception exception)
        {
            // A fresh connection for the next batch: this one may be left mid-transaction or broken.
            if (_writerConnection is not null) await _writerConnection.DisposeAsync();
            _writerConnection = null;
            // Nothing of this batch was committed: every write in it fails, and its caller hears so.
            foreach (var write in batch)
            {
                write.Fail(exception);
                write.Complete();
            }
            return false;
        }
        foreach (var write in batch) write.Complete();
        return true;
    }

    private async Task<SqliteConnection> OpenConfiguredAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);

            // Per connection, and pooled connections may be fresh: set them every time.
            // FULL makes a commit durable across power loss, not only across a process kill.
            await using var pragmas = connection.CreateCommand();
            pragmas.CommandText =
                $"PRAGMA synchronous = FULL; PRAGMA busy_timeout = {BusyTimeoutMilliseconds}; PRAGMA cache_size = -{WriterCacheKibibytes}; " +
                $"PRAGMA wal_autocheckpoint = {WriterCheckpointPages};";
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A queued write: runs at most once, and only if its caller has not given up before it starts.</summary>
    private abstract class PendingWrite
    {
        private const int Waiting = 0, Started = 1, Abandoned = 2;
        private int _state;

        public bool TryStart() => Interlocked.CompareExchange(ref _state, Started, Waiting) == Waiting;

        protected bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Waiting) == Waiting;

        /// <summary>Runs the write inside the batch's transaction; false to roll it back.</summary>
        public abstract Task<bool> RunAsync(SqliteTransaction transaction);

        public abstract void Fail(Exception exception);

        public abstract void Complete();
    }

    private sealed class PendingWrite<T>(
        Func<SqliteTransaction, CancellationToken, Task<T>> write, Func<T, bool> shouldCommit, CancellationToken cancellationToken)
        : PendingWrite
    {
        private readonly TaskCompletionSource<T> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;
        private Exception? _failure;

        public override async Task<bool> RunAsync(SqliteTransaction transaction)
        {
            _result = await write(transaction, cancellationToken);
            return shouldCommit(_result);
        }

        public override void Fail(Exception exception) => _failure ??= exception;

        public override void Complete()
        {
            if (_failure is not null) _outcome.TrySetException(_failure);
            else _outcome.TrySetResult(_result);
        }

        /// <summary>
        /// The committed outcome. Cancelled while still queued, the write never runs; once it has
        /// started its outcome is decided, and the caller waits for it.
        /// </summary>
        public async Task<T> Outcome(CancellationToken token)
        {
            if (!token.CanBeCanceled) return await _outcome.Task;
            await using (token.Register(static state =>
                         {
                             var self = (PendingWrite<T>)state!;
                             if (self.TryAbandon()) self._outcome.TrySetCanceled();
                         }, this))
            {
                return await _outcome.Task;
            }
        }

    }
}

/// <summary>The tables of the embedded components. Every statement is idempotent.</summary>
internal static class SqliteSchema
{
    /// <summary>Brings a file made by an earlier Licenzy up to <see cref="Create"/>.</summary>
    public static async Task UpgradeAsync(SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        await using (var columns = transaction.Command("SELECT COUNT(*) FROM pragma_table_info('state') WHERE name = 'expires_at';"))
        {
            if (Convert.ToInt64(await columns.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                await using var add = transaction.Command("ALTER TABLE state ADD COLUMN expires_at INTEGER NULL;");
                await add.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        await using (var columns = transaction.Command("SELECT COUNT(*) FROM pragma_table_info('outbox') WHERE name = 'trace_parent';"))
        {
            if (Convert.ToInt64(await columns.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                await using var add = transaction.Command("ALTER TABLE outbox ADD COLUMN trace_parent TEXT NULL;");
                await add.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        await using var index = transaction.Command(
            "CREATE INDEX IF NOT EXISTS state_expires_at ON state (expires_at) WHERE expires_at IS NOT NULL;");
        await index.ExecuteNonQueryAsync(cancellationToken);
    }

    public const string Create = """
        CREATE TABLE IF NOT EXISTS state (
            store      TEXT    NOT NULL,
            key        TEXT    NOT NULL,
            value      TEXT    NOT NULL,
            etag       INTEGER NOT NULL,
            expires_at INTEGER NULL,
            PRIMARY KEY (store, key)
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS outbox (
            seq                INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id         TEXT    NOT NULL,
            topic              TEXT    NOT NULL,
            data               TEXT    NOT NULL,
            dead_letter_reason TEXT    NULL,
            attempts           INTEGER NOT NULL DEFAULT 0,
            next_attempt_at    INTEGER NOT NULL,
            lease_owner        TEXT    NULL,
            lease_until        INTEGER NULL,
            last_error         TEXT    NULL,
            created_at         INTEGER NOT NULL,
            -- The W3C traceparent of the span that published the message: its delivery continues that trace.
            trace_parent       TEXT    NULL
        );
        CREATE INDEX IF NOT EXISTS outbox_next_attempt ON outbox (next_attempt_at);
        -- Only the messages being delivered: whose owners a claim asks after (LeaseOwners).
        CREATE INDEX IF NOT EXISTS outbox_leased ON outbox (lease_until) WHERE lease_until IS NOT NULL;

        CREATE TABLE IF NOT EXISTS dead_letters (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id TEXT    NOT NULL,
            topic      TEXT    NOT NULL,
            data       TEXT    NOT NULL,
            attempts   INTEGER NOT NULL,
            reason     TEXT    NOT NULL,
            dead_at    INTEGER NOT NULL
        );
        """;
}

internal static class SqliteCommandExtensions
{
    /// <summary>A command enlisted in <paramref name="transaction"/>.</summary>
    public static SqliteCommand Command(this SqliteTransaction transaction, string sql)
    {
        var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    public static SqliteCommand Command(this SqliteConnection connection, string sql)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        return command;
    }

    public static SqliteCommand With(this SqliteCommand command, string name, object? value)
    {
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}

using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>
/// A statement prepared once per connection and run through SQLite's C API: bound by position
/// (<c>?1</c>, <c>?2</c>, ...), stepped once, reset. For the few statements every write runs on the
/// writer's long-lived connection (the savepoints and the <c>state</c> rows), where
/// Microsoft.Data.Sqlite's work per execution (finding the statement by its text, binding by name,
/// a data reader per call) cost more than SQLite's own. Use it on one thread at a time, inside a
/// transaction of the connection it was prepared on, and do not keep it.
/// </summary>
internal sealed class PreparedStatement
{
    private static readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, PreparedStatement>> Prepared = new();

    private readonly sqlite3 _database;
    private readonly sqlite3_stmt _statement;

    private PreparedStatement(sqlite3 database, sqlite3_stmt statement)
    {
        _database = database;
        _statement = statement;
    }

    public static PreparedStatement For(SqliteTransaction transaction, string sql)
    {
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction has ended.");
        var statements = Prepared.GetOrCreateValue(connection);
        if (statements.TryGetValue(sql, out var prepared)) return prepared;

        var database = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        var rc = raw.sqlite3_prepare_v2(database, sql, out var statement);
        if (rc != raw.SQLITE_OK) throw Error(database, rc);
        prepared = new PreparedStatement(database, statement);
        statements[sql] = prepared;
        return prepared;
    }

    public PreparedStatement Bind(int position, string value) => Checked(raw.sqlite3_bind_text(_statement, position, value));

    /// <summary>Text given as UTF-8 bytes, as the serializer writes it: no string in between.</summary>
    public PreparedStatement BindUtf8(int position, ReadOnlySpan<byte> value) => Checked(raw.sqlite3_bind_text(_statement, position, value));

    public PreparedStatement Bind(int position, long value) => Checked(raw.sqlite3_bind_int64(_statement, position, value));

    public PreparedStatement Bind(int position, long? value) =>
        value is { } known ? Bind(position, known) : Checked(raw.sqlite3_bind_null(_statement, position));

    /// <summary>Runs the statement; the number of rows it changed.</summary>
    public int Execute()
    {
        try
        {
            var rc = raw.sqlite3_step(_statement);
            if (rc is not (raw.SQLITE_DONE or raw.SQLITE_ROW)) throw Error(_database, rc);
            return raw.sqlite3_changes(_database);
        }
        finally
        {
            Reset();
        }
    }

    /// <summary>Runs the statement; the first column of its first row, or null when it returned none.</summary>
    public long? ExecuteInt64()
    {
        try
        {
            var rc = raw.sqlite3_step(_statement);
            return rc switch
            {
                raw.SQLITE_ROW => raw.sqlite3_column_int64(_statement, 0),
                raw.SQLITE_DONE => null,
                _ => throw Error(_database, rc),
            };
        }
        finally
        {
            Reset();
        }
    }

    private void Reset()
    {
        // Both only repeat an error the step already reported.
        raw.sqlite3_reset(_statement);
        raw.sqlite3_clear_bindings(_statement);
    }

    private PreparedStatement Checked(int rc) => rc == raw.SQLITE_OK ? this : throw Error(_database, rc);

    private static SqliteException Error(sqlite3 database, int rc) =>
        new($"SQLite Error {rc}: '{raw.sqlite3_errmsg(database).utf8_to_string()}'.", rc, raw.sqlite3_extended_errcode(database));
}

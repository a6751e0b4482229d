using System.Globalization;
using Licenzy.Infrastructure.Telemetry;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>The outbox's row count, for the <c>licenzy.outbox.depth</c> gauge (read when metrics are collected).</summary>
internal sealed class SqliteOutboxDepth(SqliteDatabase database) : IOutboxDepth
{
    public long? Read()
    {
        try
        {
            return database.ReadAsync(async (connection, token) =>
            {
                await using var count = connection.Command("SELECT COUNT(*) FROM outbox;");
                return Convert.ToInt64(await count.ExecuteScalarAsync(token), CultureInfo.InvariantCulture);
            }, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}

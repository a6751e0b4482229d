using Xunit;
using Licenzy.Domain;
using Licenzy.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Licenzy.Testing;

/// <summary>Looks at what the store holds, on either binding, for tests about storage itself.</summary>
public static class StoredState
{
    /// <summary>The keys of the embedded store's rows whose key or value contains <paramref name="text"/>.</summary>
    public static async Task<IReadOnlyList<string>> EmbeddedKeysMentioningAsync(LicenzyApp app, string text)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(app.DataPath, "licenzy.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT key FROM state WHERE instr(key, $text) > 0 OR instr(value, $text) > 0 ORDER BY key;";
        command.Parameters.AddWithValue("$text", text);
        var keys = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) keys.Add(reader.GetString(0));
        return keys;
    }

    /// <summary>
    /// Everything the host has stored (state and queued messages), as comparable lines: equal
    /// snapshots before and after a request mean it wrote nothing.
    /// </summary>
    public static async Task<IReadOnlyList<string>> SnapshotAsync(ILicenzyHost host)
    {
        if (host.Sidecar is { } sidecar) return sidecar.Snapshot();
        var app = (LicenzyApp)host;
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(app.DataPath, "licenzy.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT 'state|' || store || '|' || key || '|' || value FROM state
            UNION ALL SELECT 'outbox|' || message_id FROM outbox
            ORDER BY 1;
            """;
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        return lines;
    }

    /// <summary>
    /// Asserts that nothing was written between two snapshots: the same state, and no message
    /// queued. A queued message delivered meanwhile (an earlier purchase) may leave the outbox.
    /// </summary>
    public static void AssertNothingWritten(IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        static bool IsQueued(string line) => line.StartsWith("outbox|", StringComparison.Ordinal);
        Assert.Equal(before.Where(line => !IsQueued(line)), after.Where(line => !IsQueued(line)));
        Assert.Empty(after.Where(IsQueued).Except(before));
    }

    /// <summary>When the store will forget an idempotency record (null: never, or no such record).</summary>
    public static async Task<DateTimeOffset?> IdempotencyExpiryAsync(TestTenant tenant, string operation, string key)
    {
        Modes.TryParse(tenant.Mode, out var mode);
        var stateKey = StateKeys.Idempotency(tenant.TenantId, mode, operation, key);
        if (tenant.App.Sidecar is { } sidecar) return sidecar.ExpiryOf(Components.StateStore, stateKey);

        var app = (LicenzyApp)tenant.App;
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(app.DataPath, "licenzy.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT expires_at FROM state WHERE store = $store AND key = $key;";
        command.Parameters.AddWithValue("$store", Components.StateStore);
        command.Parameters.AddWithValue("$key", stateKey);
        return await command.ExecuteScalarAsync() is long milliseconds ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds) : null;
    }
}

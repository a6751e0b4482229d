using Licenzy.Infrastructure.Telemetry;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>A message the dispatcher has claimed and now owns until <see cref="LeaseUntil"/>.</summary>
/// <param name="Attempt">This delivery's number, from 1; earlier claims count even if they never finished.</param>
/// <param name="ClaimedAt">When this attempt began; the retry backoff is measured from here.</param>
internal sealed record ClaimedMessage(
    long Sequence,
    string MessageId,
    string Topic,
    string Data,
    int Attempt,
    string? DeadLetterReason,
    string? TraceParent,
    string LeaseOwner,
    DateTimeOffset ClaimedAt,
    DateTimeOffset LeaseUntil);

/// <summary>
/// The <c>outbox</c> and <c>dead_letters</c> tables: every way a message enters, is claimed, and
/// leaves. A message stays in the outbox until a subscriber has taken it, so a committed publish
/// survives any crash. Settling a claim only touches the row while the claim is still ours.
/// </summary>
internal sealed partial class OutboxQueue(
    SqliteDatabase database,
    OutboxSignal signal,
    TimeProvider clock,
    LeaseOwners owners,
    ILogger<OutboxQueue> log)
{
    /// <summary>Adds a message in its own transaction; returns once it is committed.</summary>
    public async Task PublishAsync(string topic, string messageId, string json, CancellationToken cancellationToken)
    {
        // Read here: the write itself may run on the writer's thread, outside the caller's span.
        var traceParent = LicenzyTelemetry.CurrentTraceParent();
        await database.WriteAsync((transaction, token) => EnqueueAsync(transaction, topic, messageId, json, null, traceParent, token),
            cancellationToken);
        signal.Notify();
    }

    /// <summary>Inserts a state row and a message together, or neither when the key exists.</summary>
    public async Task<bool> TryStoreAndPublishAsync(string store, string key, string topic, string messageId, string json,
        CancellationToken cancellationToken)
    {
        var traceParent = LicenzyTelemetry.CurrentTraceParent();
        var stored = await database.TryWriteAsync(async (transaction, token) =>
        {
            if (StateRows.TryInsert(transaction, store, key, Encoding.UTF8.GetBytes(json), null, clock.GetUtcNow().ToUnixTimeMilliseconds()) is null) return false;
            await EnqueueAsync(transaction, topic, messageId, json, null, traceParent, token);
            return true;
        }, cancellationToken);

        if (stored) signal.Notify();
        return stored;
    }

    /// <summary>
    /// Leases up to <paramref name="limit"/> due messages of <paramref name="topics"/> to
    /// <paramref name="owner"/>. Messages leased by someone else are skipped until that lease runs
    /// out, unless its owner no longer runs (<see cref="LeaseOwners"/>): those are taken at once.
    /// </summary>
    public async Task<IReadOnlyList<ClaimedMessage>> ClaimAsync(string owner, IReadOnlyCollection<string> topics,
        int limit, TimeSpan lease, CancellationToken cancellationToken)
    {
        var topicsJson = JsonSerializer.Serialize(topics);

        // Polling runs every second in every process: look first, and take the write lock only when there is work.
        var gone = await database.ReadAsync<IReadOnlyList<string>?>(async (connection, token) =>
        {
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            var gone = new List<string>();
            // Few rows: the messages being delivered right now (the index holds only leased rows).
            await using (var leased = connection
                .Command($"""
                    SELECT DISTINCT lease_owner FROM outbox
                    WHERE lease_until > $now AND lease_owner <> $owner AND {DueWhere};
                    """)
                .With("$owner", owner)
                .With("$topics", topicsJson)
                .With("$now", now))
            {
                await using var reader = await leased.ExecuteReaderAsync(token);
                while (await reader.ReadAsync(token))
                {
                    var leaseOwner = reader.GetString(0);
                    if (owners.IsGone(leaseOwner)) gone.Add(leaseOwner);
                }
            }

            await using var command = connection
                .Command($"SELECT EXISTS (SELECT 1 FROM outbox WHERE {ClaimableWhere});")
                .With("$topics", topicsJson)
                .With("$gone", JsonSerializer.Serialize(gone))
                .With("$now", now);
            return (long)(await command.ExecuteScalarAsync(token))! == 1 ? gone : null;
        }, cancellationToken);
        if (gone is null) return [];
        foreach (var goneOwner in gone) LogTakingBack(goneOwner);

        // One write transaction, as before. An owner found gone stays gone (its id is never used
        // again), so what the look above found still holds here.
        return await database.WriteAsync<IReadOnlyList<ClaimedMessage>>(async (transaction, token) =>
        {
            var now = clock.GetUtcNow();
            var leaseUntil = now + lease;
            await using var command = transaction
                .Command($"""
                    UPDATE outbox
                    SET lease_owner = $owner, lease_until = $lease_until, attempts = attempts + 1
                    WHERE seq IN (
                        SELECT seq FROM outbox
                        WHERE {ClaimableWhere}
                        ORDER BY next_attempt_at, seq
                        LIMIT $limit)
                    RETURNING seq, message_id, topic, data, attempts, dead_letter_reason, trace_parent;
                    """)
                .With("$owner", owner)
                .With("$lease_until", leaseUntil.ToUnixTimeMilliseconds())
                .With("$topics", topicsJson)
                .With("$gone", JsonSerializer.Serialize(gone))
                .With("$now", now.ToUnixTimeMilliseconds())
                .With("$limit", limit);

            var claimed = new List<ClaimedMessage>();
            await using var reader = await command.ExecuteReaderAsync(token);
            while (await reader.ReadAsync(token))
            {
                claimed.Add(new ClaimedMessage(
                    Sequence: reader.GetInt64(0),
                    MessageId: reader.GetString(1),
                    Topic: reader.GetString(2),
                    Data: reader.GetString(3),
                    Attempt: reader.GetInt32(4),
                    DeadLetterReason: reader.IsDBNull(5) ? null : reader.GetString(5),
                    TraceParent: reader.IsDBNull(6) ? null : reader.GetString(6),
                    LeaseOwner: owner,
                    ClaimedAt: now,
                    LeaseUntil: leaseUntil));
            }
            return claimed;
        }, cancellationToken);
    }

    /// <summary>The owner ids that leases in the outbox name, run out or not.</summary>
    public Task<IReadOnlySet<string>> LeaseOwnersAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlySet<string>>(async (connection, token) =>
        {
            await using var command = connection.Command(
                "SELECT DISTINCT lease_owner FROM outbox WHERE lease_until IS NOT NULL AND lease_owner IS NOT NULL;");
            var named = new HashSet<string>(StringComparer.Ordinal);
            await using var reader = await command.ExecuteReaderAsync(token);
            while (await reader.ReadAsync(token)) named.Add(reader.GetString(0));
            return named;
        }, cancellationToken);

    // Due, and of a topic we deliver.
    private const string DueWhere = """
        topic IN (SELECT value FROM json_each($topics))
        AND next_attempt_at <= $now
        """;

    // Due, and not leased by anyone (or the lease has run out, or its owner no longer runs).
    private const string ClaimableWhere = $"""
        {DueWhere}
        AND (lease_until IS NULL OR lease_until <= $now OR lease_owner IN (SELECT value FROM json_each($gone)))
        """;

    /// <summary>Delivered: the message is done. False when the lease was lost meanwhile.</summary>
    public Task<bool> CompleteAsync(ClaimedMessage message) =>
        database.TryWriteAsync(async (transaction, token) =>
        {
            await using var command = transaction
                .Command("DELETE FROM outbox WHERE seq = $seq AND lease_owner = $owner;")
                .With("$seq", message.Sequence).With("$owner", message.LeaseOwner);
            return await command.ExecuteNonQueryAsync(token) == 1;
        }, CancellationToken.None);

    /// <summary>Failed this time: free the message for another attempt at <paramref name="nextAttemptAt"/>.</summary>
    public Task<bool> ScheduleRetryAsync(ClaimedMessage message, DateTimeOffset nextAttemptAt, string reason) =>
        database.TryWriteAsync(async (transaction, token) =>
        {
            await using var command = transaction
                .Command("""
                    UPDATE outbox
                    SET lease_owner = NULL, lease_until = NULL, next_attempt_at = $next, last_error = $reason
                    WHERE seq = $seq AND lease_owner = $owner;
                    """)
                .With("$next", nextAttemptAt.ToUnixTimeMilliseconds()).With("$reason", reason)
                .With("$seq", message.Sequence).With("$owner", message.LeaseOwner);
            return await command.ExecuteNonQueryAsync(token) == 1;
        }, CancellationToken.None);

    /// <summary>
    /// Not delivered, and never will be: in one transaction remove the message and either publish
    /// it to <paramref name="deadLetterTopic"/> or keep it in <c>dead_letters</c>.
    /// </summary>
    public async Task<bool> DeadLetterAsync(ClaimedMessage message, string reason, string? deadLetterTopic)
    {
        // The dead letter continues the trace of the delivery that gave up (or, failing that, the message's own).
        var traceParent = LicenzyTelemetry.CurrentTraceParent() ?? message.TraceParent;
        var moved = await database.TryWriteAsync(async (transaction, token) =>
        {
            await using (var delete = transaction
                .Command("DELETE FROM outbox WHERE seq = $seq AND lease_owner = $owner;")
                .With("$seq", message.Sequence).With("$owner", message.LeaseOwner))
            {
                if (await delete.ExecuteNonQueryAsync(token) != 1) return false;
            }

            if (deadLetterTopic is not null)
            {
                await EnqueueAsync(transaction, deadLetterTopic, message.MessageId, message.Data, reason, traceParent, token);
                return true;
            }

            await using var keep = transaction
                .Command("""
                    INSERT INTO dead_letters (message_id, topic, data, attempts, reason, dead_at)
                    VALUES ($id, $topic, $data, $attempts, $reason, $now);
                    """)
                .With("$id", message.MessageId).With("$topic", message.Topic).With("$data", message.Data)
                .With("$attempts", message.Attempt).With("$reason", reason)
                .With("$now", clock.GetUtcNow().ToUnixTimeMilliseconds());
            await keep.ExecuteNonQueryAsync(token);
            return true;
        }, CancellationToken.None);

        if (moved && deadLetterTopic is not null) signal.Notify();
        return moved;
    }

    /// <summary>Gives a claim back unused (shutdown): due at once, and the attempt does not count.</summary>
    public Task<bool> ReleaseAsync(ClaimedMessage message) =>
        database.TryWriteAsync(async (transaction, token) =>
        {
            await using var command = transaction
                .Command("""
                    UPDATE outbox SET lease_owner = NULL, lease_until = NULL, attempts = attempts - 1
                    WHERE seq = $seq AND lease_owner = $owner;
                    """)
                .With("$seq", message.Sequence).With("$owner", message.LeaseOwner);
            return await command.ExecuteNonQueryAsync(token) == 1;
        }, CancellationToken.None);

    private async Task EnqueueAsync(SqliteTransaction transaction, string topic, string messageId, string json,
        string? deadLetterReason, string? traceParent, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var command = transaction
            .Command("""
                INSERT INTO outbox (message_id, topic, data, dead_letter_reason, attempts, next_attempt_at, created_at, trace_parent)
                VALUES ($id, $topic, $data, $reason, 0, $now, $now, $trace);
                """)
            .With("$id", messageId).With("$topic", topic).With("$data", json)
            .With("$reason", deadLetterReason).With("$now", now).With("$trace", traceParent);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(LogLevel.Warning, "Outbox messages leased by {Owner} are taken back at once: it no longer runs")]
    private partial void LogTakingBack(string owner);
}

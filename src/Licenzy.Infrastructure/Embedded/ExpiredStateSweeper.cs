using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>
/// Deletes state rows past their time to live (idempotency records, for one), at start and then
/// every <see cref="Interval"/>, a batch per write so that other writes go on between batches.
/// Reads already treat such rows as absent; this gives their room back.
/// </summary>
internal sealed class ExpiredStateSweeper(SqliteDatabase database, TimeProvider clock, ILogger<ExpiredStateSweeper> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);
    private const int Batch = 1_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                var deleted = await SweepAsync(stoppingToken);
                if (deleted > 0) log.LogInformation("Deleted {Rows} expired state rows", deleted);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // Nothing is lost by waiting: the rows are already invisible; try again next time.
                log.LogWarning(exception, "Deleting expired state rows failed; trying again in {Interval}", Interval);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Deletes every row expired by now; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            var deleted = await database.WriteAsync(async (transaction, token) =>
            {
                await using var command = transaction
                    .Command("DELETE FROM state WHERE (store, key) IN (SELECT store, key FROM state WHERE expires_at <= $now LIMIT $batch);")
                    .With("$now", now)
                    .With("$batch", Batch);
                return await command.ExecuteNonQueryAsync(token);
            }, cancellationToken);
            total += deleted;
            if (deleted < Batch) return total;
        }
    }
}

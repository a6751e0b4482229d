using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>Healthy when the SQLite file opens and answers a query.</summary>
internal sealed class SqliteHealthCheck(SqliteDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context,
        CancellationToken cancellationToken = default)
    {
        try
        {
            await database.ReadAsync(async (connection, token) =>
            {
                await using var command = connection.Command("SELECT EXISTS (SELECT 1 FROM outbox);");
                return await command.ExecuteScalarAsync(token);
            }, cancellationToken);
            return HealthCheckResult.Healthy("Embedded components: SQLite answers.");
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("Embedded components: SQLite does not answer.", exception);
        }
    }
}

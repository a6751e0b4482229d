using Microsoft.Extensions.Hosting;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>Creates the folder, file and schema at start, so a bad data path stops the app at once.</summary>
internal sealed class SqliteInitializer(SqliteDatabase database) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await database.InitializeAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"{ComponentsOptions.SectionName}:DataPath: cannot open or create {database.FilePath}: {exception.Message}",
                exception);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

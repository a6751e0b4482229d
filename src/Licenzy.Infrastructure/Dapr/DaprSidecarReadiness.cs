using Dapr.Client;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>
/// Holds the app's start until the sidecar can reach its components (the SDK's
/// <see cref="DaprClient.WaitForSidecarAsync"/>, on <c>/v1.0/healthz/outbound</c>), so that the
/// first request does not fail on a sidecar that is still starting; stops the app, saying why,
/// when it does not come within <see cref="DaprOptions.SidecarWaitTimeout"/>.
/// </summary>
public sealed partial class DaprSidecarReadiness(DaprClient dapr, IOptions<DaprOptions> options, ILogger<DaprSidecarReadiness> log)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(settings.SidecarWaitTimeout);
        LogWaiting(settings.HttpEndpoint!);
        try
        {
            await dapr.WaitForSidecarAsync(wait.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException(
                $"The Dapr sidecar at {settings.HttpEndpoint} was not ready within {settings.SidecarWaitTimeout} " +
                $"({DaprOptions.SectionName}:SidecarWaitTimeout). Is it running, and are DAPR_HTTP_PORT and DAPR_GRPC_PORT right?");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting for the Dapr sidecar at {Endpoint}")]
    private partial void LogWaiting(Uri endpoint);
}

/// <summary>Readiness includes the sidecar: without it the app can neither read nor write.</summary>
public sealed class DaprSidecarHealthCheck(DaprClient dapr) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await dapr.CheckHealthAsync(cancellationToken)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("the Dapr sidecar is not healthy");
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("the Dapr sidecar does not answer", e);
        }
    }
}

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>
/// Holds the app's start until the sidecar can reach its components (<c>/v1.0/healthz/outbound</c>),
/// so that the first request does not fail on a sidecar that is still starting.
/// </summary>
public sealed partial class DaprSidecarReadiness(DaprSidecar sidecar, IOptions<DaprOptions> options, TimeProvider clock,
    ILogger<DaprSidecarReadiness> log) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + options.Value.SidecarWaitTimeout;
        while (true)
        {
            try
            {
                using var response = await sidecar.SendAsync(HttpMethod.Get, "/v1.0/healthz/outbound", null, cancellationToken);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (clock.GetUtcNow() > deadline)
                throw new InvalidOperationException(
                    $"The Dapr sidecar at {options.Value.HttpEndpoint} was not ready within {options.Value.SidecarWaitTimeout} " +
                    $"({DaprOptions.SectionName}:SidecarWaitTimeout). Is it running, and is DAPR_HTTP_PORT right?");
            LogWaiting(options.Value.HttpEndpoint!);
            await Task.Delay(TimeSpan.FromMilliseconds(500), clock, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting for the Dapr sidecar at {Endpoint}")]
    private partial void LogWaiting(Uri endpoint);
}

/// <summary>Readiness includes the sidecar: without it the app can neither read nor write.</summary>
public sealed class DaprSidecarHealthCheck(DaprSidecar sidecar) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await sidecar.SendAsync(HttpMethod.Get, "/v1.0/healthz", null, cancellationToken);
            return response.IsSuccessStatusCode
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"the Dapr sidecar answered {(int)response.StatusCode}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return HealthCheckResult.Unhealthy("the Dapr sidecar does not answer", e);
        }
    }
}

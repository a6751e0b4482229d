using System.Net.Http.Json;
using Licenzy.Infrastructure.Actors;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>
/// Calls actors through the sidecar (<c>/v1.0/actors/{type}/{id}/method/{method}</c>). Dapr places
/// each actor on one app instance and runs one turn at a time per actor.
/// </summary>
public sealed class DaprActorClient(DaprSidecar sidecar) : IActorClient
{
    public async Task<TResponse> InvokeAsync<TRequest, TResponse>(string actorType, string actorId, string method, TRequest request,
        CancellationToken cancellationToken = default)
    {
        using var response = await sidecar.SendAsync(HttpMethod.Put,
            $"/v1.0/actors/{Uri.EscapeDataString(actorType)}/{Uri.EscapeDataString(actorId)}/method/{Uri.EscapeDataString(method)}",
            request, cancellationToken);
        await DaprSidecar.EnsureSuccessAsync(response, $"actor call {actorType}.{method}", cancellationToken);
        return (await response.Content.ReadFromJsonAsync<TResponse>(LicenzyJson.Options, cancellationToken))!;
    }
}

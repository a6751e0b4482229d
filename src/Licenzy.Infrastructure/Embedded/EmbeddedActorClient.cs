using System.Text.Json;
using Licenzy.Infrastructure.Actors;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>
/// Runs actor turns in this process: one at a time per (type, id), different ids side by side.
/// Requests and responses go through JSON, exactly as they would through a sidecar, so an actor
/// behaves the same on either binding; except with an <see cref="IObjectActor"/>, which takes the
/// request object and returns its response object, saving four JSON conversions a turn.
/// Turns are not reentrant: an actor must not call itself.
/// </summary>
internal sealed class EmbeddedActorClient(
    IServiceScopeFactory scopes,
    IEnumerable<ActorRegistration> registrations,
    ActorTurnLocks turns) : IActorClient
{
    private readonly HashSet<string> _actorTypes = registrations.Select(r => r.ActorType).ToHashSet(StringComparer.Ordinal);

    public async Task<TResponse> InvokeAsync<TRequest, TResponse>(string actorType, string actorId, string method,
        TRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(actorType);
        ArgumentException.ThrowIfNullOrEmpty(actorId);
        ArgumentException.ThrowIfNullOrEmpty(method);
        if (!_actorTypes.Contains(actorType))
        {
            var known = _actorTypes.Count == 0 ? "none" : string.Join(", ", _actorTypes.Order(StringComparer.Ordinal));
            throw new InvalidOperationException(
                $"No actor type '{actorType}' is registered (registered: {known}). " +
                $"Register it with services.AddActor<TActor>(\"{actorType}\").");
        }

        await using (await turns.EnterAsync(actorType, actorId, cancellationToken))
        {
            await using var scope = scopes.CreateAsyncScope();
            var actor = scope.ServiceProvider.GetRequiredKeyedService<IActor>(actorType);
            if (actor is IObjectActor objectActor)
                return (TResponse)await objectActor.InvokeAsync(actorId, method, request!, cancellationToken);

            var requestJson = JsonSerializer.SerializeToElement(request, LicenzyJson.Options);
            var responseJson = await actor.InvokeAsync(actorId, method, requestJson, cancellationToken);
            return responseJson.Deserialize<TResponse>(LicenzyJson.Options)!;
        }
    }
}

using System.Text.Json;

namespace Licenzy.Infrastructure.Actors;

/// <summary>
/// An actor type: a named kind of single-threaded object, one instance per id. The actor binding
/// guarantees one turn at a time per (type, id) and calls <see cref="InvokeAsync"/> for each turn.
/// Implementations are resolved from DI once per turn (register them as transient or scoped).
/// </summary>
public interface IActor
{
    /// <summary>Runs one method call. Request and response are JSON, so the turn can cross a sidecar.</summary>
    Task<JsonElement> InvokeAsync(string actorId, string method, JsonElement request, CancellationToken cancellationToken);
}

/// <summary>Calls actors: one turn at a time per (type, id), across the whole application.</summary>
public interface IActorClient
{
    Task<TResponse> InvokeAsync<TRequest, TResponse>(string actorType, string actorId, string method, TRequest request,
        CancellationToken cancellationToken = default);
}

/// <summary>An actor type and the implementation that serves it.</summary>
public sealed record ActorRegistration(string ActorType, Type ImplementationType);

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

/// <summary>
/// An actor that also takes its requests as objects. The in-process binding calls it this way and
/// hands the result back as it is, with no JSON in between; over a sidecar the JSON method is used.
/// The two must behave alike: the JSON method should only convert and call this one.
/// </summary>
public interface IObjectActor : IActor
{
    /// <summary>Runs one method call with the request object the caller passed, returning the response object.</summary>
    Task<object> InvokeAsync(string actorId, string method, object request, CancellationToken cancellationToken);
}

/// <summary>Calls actors: one turn at a time per (type, id), across the whole application.</summary>
public interface IActorClient
{
    Task<TResponse> InvokeAsync<TRequest, TResponse>(string actorType, string actorId, string method, TRequest request,
        CancellationToken cancellationToken = default);
}

/// <summary>An actor type and the implementation that serves it.</summary>
public sealed record ActorRegistration(string ActorType, Type ImplementationType);

using Dapr.Actors;
using Dapr.Actors.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Infrastructure.Actors;

/// <summary>
/// Hands out an actor by its interface, type name and id; calling a method on it is one turn of that
/// actor. On Dapr it is the SDK's actor proxy (the sidecar places the actor on one app instance and
/// runs its turns one at a time); on embedded components it is the actor's in-process form, whose
/// methods take their turns in <see cref="ActorTurns"/>.
/// </summary>
public interface IActorProxies
{
    TActor Get<TActor>(string actorType, string actorId) where TActor : class, IActor;
}

/// <summary>
/// An actor type: its interface, the <see cref="Dapr.Actors.Runtime.Actor"/> that the Dapr runtime
/// hosts, and how to make its in-process form for an id.
/// </summary>
public sealed record ActorRegistration(string ActorType, Type InterfaceType, Type DaprActorType,
    Func<IServiceProvider, string, object> InProcess);

/// <summary>Actors through the Dapr sidecar: the SDK's proxies, remoting with Licenzy's JSON.</summary>
internal sealed class DaprActorProxies(IActorProxyFactory proxies) : IActorProxies
{
    public TActor Get<TActor>(string actorType, string actorId) where TActor : class, IActor =>
        proxies.CreateActorProxy<TActor>(new ActorId(actorId), actorType);
}

/// <summary>Actors in this process: the registered in-process form, made for the id.</summary>
internal sealed class InProcessActorProxies(IServiceProvider services, IEnumerable<ActorRegistration> registrations) : IActorProxies
{
    private readonly Dictionary<string, ActorRegistration> _byType =
        registrations.ToDictionary(registration => registration.ActorType, StringComparer.Ordinal);

    public TActor Get<TActor>(string actorType, string actorId) where TActor : class, IActor
    {
        ArgumentException.ThrowIfNullOrEmpty(actorId);
        if (!_byType.TryGetValue(actorType, out var registration))
        {
            var known = _byType.Count == 0 ? "none" : string.Join(", ", _byType.Keys.Order(StringComparer.Ordinal));
            throw new InvalidOperationException(
                $"No actor type '{actorType}' is registered (registered: {known}). Register it with services.AddActor<...>(\"{actorType}\", ...).");
        }
        if (registration.InterfaceType != typeof(TActor))
            throw new InvalidOperationException($"Actor type '{actorType}' is reached through {registration.InterfaceType.Name}, not {typeof(TActor).Name}.");
        return (TActor)registration.InProcess(services, actorId);
    }
}

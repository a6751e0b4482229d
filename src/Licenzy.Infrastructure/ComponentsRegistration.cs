using Licenzy.Infrastructure.Actors;
using Licenzy.Infrastructure.Dapr;
using Licenzy.Infrastructure.Embedded;
using Licenzy.Infrastructure.PubSub;
using Licenzy.Infrastructure.State;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure;

/// <summary>The DI entry points of the building blocks.</summary>
public static class ComponentsRegistration
{
    /// <summary>
    /// Registers state, pub/sub and actors on the binding that <c>Licenzy:Components</c> selects,
    /// plus the "components" health check. Safe to call more than once (the standalone app
    /// composes two apps that both call it): only the first call registers anything.
    /// </summary>
    public static IServiceCollection AddLicenzyComponents(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(descriptor => descriptor.ServiceType == typeof(ComponentsRegistered))) return services;
        services.AddSingleton<ComponentsRegistered>();

        services.AddOptions<ComponentsOptions>()
            .Bind(configuration.GetSection(ComponentsOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ComponentsOptions>, ComponentsOptionsValidator>());
        services.AddOptions<OutboxOptions>()
            .Bind(configuration.GetSection(OutboxOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OutboxOptions>, OutboxOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);

        if (BindingOf(configuration) == ComponentsBinding.Dapr) DaprRegistration.AddDaprBinding(services, configuration);
        else AddEmbeddedBinding(services);
        return services;
    }

    /// <summary>The binding the configuration asks for; an unreadable value is left to the options validation to report.</summary>
    public static ComponentsBinding BindingOf(IConfiguration configuration) =>
        Enum.TryParse<ComponentsBinding>(configuration[$"{ComponentsOptions.SectionName}:Components"], ignoreCase: true, out var binding)
            ? binding
            : ComponentsBinding.Embedded;

    /// <summary>
    /// Whether this process makes every change to its stores (the embedded binding: its actors, its
    /// writer), so that what it reads may be kept until it changes it itself. With Dapr, actor turns
    /// and setup calls may run in another replica.
    /// </summary>
    public static bool ProcessIsTheOnlyWriter(IConfiguration configuration) => BindingOf(configuration) == ComponentsBinding.Embedded;

    private static void AddEmbeddedBinding(IServiceCollection services)
    {
        services.TryAddSingleton<SqliteDatabase>();
        services.TryAddSingleton<IStateStoreFactory, SqliteStateStoreFactory>();
        services.TryAddSingleton<OutboxSignal>();
        services.TryAddSingleton<LeaseOwners>();
        services.TryAddSingleton<OutboxQueue>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Telemetry.IOutboxDepth, SqliteOutboxDepth>());
        services.TryAddSingleton<IPublisher, SqlitePublisher>();
        services.TryAddSingleton<IOutboxStore, SqliteOutboxStore>();
        services.TryAddSingleton<ActorTurns>();
        services.TryAddSingleton<IActorProxies, InProcessActorProxies>();

        // The schema first, then the dispatcher that reads it.
        services.AddHostedService<SqliteInitializer>();
        services.AddHostedService<OutboxDispatcher>();
        services.TryAddSingleton<ExpiredStateSweeper>();
        services.AddHostedService(provider => provider.GetRequiredService<ExpiredStateSweeper>());

        services.AddHealthChecks().AddCheck<SqliteHealthCheck>("components");
    }

    /// <summary>
    /// Subscribes <typeparamref name="TSubscriber"/> to its topic. It is resolved in a scope of its
    /// own for every delivery. One subscriber per topic per app.
    /// </summary>
    public static IServiceCollection AddSubscriber<TSubscriber>(this IServiceCollection services)
        where TSubscriber : class, ISubscriber
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddScoped<TSubscriber>();
        services.TryAddEnumerable(
            ServiceDescriptor.Scoped<ISubscriber, TSubscriber>(provider => provider.GetRequiredService<TSubscriber>()));
        return services;
    }

    /// <summary>
    /// Serves actor type <paramref name="actorType"/>, reached through <typeparamref name="TActor"/>:
    /// on Dapr the runtime hosts <typeparamref name="TDaprActor"/> and callers get the SDK's proxy; on
    /// embedded components callers get <paramref name="inProcess"/>'s object for the id, whose methods
    /// must take their turns in <see cref="ActorTurns"/>. Both forms must behave alike.
    /// </summary>
    public static IServiceCollection AddActor<TActor, TDaprActor>(this IServiceCollection services, string actorType,
        Func<IServiceProvider, string, TActor> inProcess)
        where TActor : class, global::Dapr.Actors.IActor
        where TDaprActor : global::Dapr.Actors.Runtime.Actor, TActor
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(actorType);
        ArgumentNullException.ThrowIfNull(inProcess);

        var existing = services
            .Select(descriptor => descriptor.ImplementationInstance)
            .OfType<ActorRegistration>()
            .FirstOrDefault(registration => registration.ActorType == actorType);
        if (existing is not null)
        {
            if (existing.DaprActorType == typeof(TDaprActor)) return services;
            throw new InvalidOperationException(
                $"Actor type '{actorType}' is already served by {existing.DaprActorType.Name}; " +
                $"it cannot also be served by {typeof(TDaprActor).Name}.");
        }

        services.AddSingleton(new ActorRegistration(actorType, typeof(TActor), typeof(TDaprActor), (provider, id) => inProcess(provider, id)));
        // Read only when the Dapr binding hosts actors.
        services.Configure<global::Dapr.Actors.Runtime.ActorRuntimeOptions>(options => options.Actors.RegisterActor<TDaprActor>(actorType));
        return services;
    }

    /// <summary>Marks that the components are registered, so a second call adds nothing.</summary>
    private sealed class ComponentsRegistered;
}

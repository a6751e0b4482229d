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

        if (BindingOf(configuration) == ComponentsBinding.Dapr) AddDaprBinding(services, configuration);
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
        services.TryAddSingleton<OutboxQueue>();
        services.TryAddSingleton<IPublisher, SqlitePublisher>();
        services.TryAddSingleton<IOutboxStore, SqliteOutboxStore>();
        services.TryAddSingleton<ActorTurnLocks>();
        services.TryAddSingleton<IActorClient, EmbeddedActorClient>();

        // The schema first, then the dispatcher that reads it.
        services.AddHostedService<SqliteInitializer>();
        services.AddHostedService<OutboxDispatcher>();
        services.TryAddSingleton<ExpiredStateSweeper>();
        services.AddHostedService(provider => provider.GetRequiredService<ExpiredStateSweeper>());

        services.AddHealthChecks().AddCheck<SqliteHealthCheck>("components");
    }

    private static void AddDaprBinding(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DaprOptions>().Bind(configuration.GetSection(DaprOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<DaprOptions>>(new DaprOptions.FromEnvironment(configuration));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DaprOptions>, DaprOptions.Validator>());

        // One long-lived client for the sidecar; connections are recycled, the client is not.
        services.AddHttpClient(DaprSidecar.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.TryAddSingleton(provider => new DaprSidecar(
            provider.GetRequiredService<IHttpClientFactory>().CreateClient(DaprSidecar.HttpClientName),
            provider.GetRequiredService<IOptions<DaprOptions>>()));
        services.TryAddSingleton<DaprStateStoreFactory>();
        services.TryAddSingleton<IStateStoreFactory>(provider => provider.GetRequiredService<DaprStateStoreFactory>());
        services.TryAddSingleton<IOutboxStore, DaprOutboxStore>();
        services.TryAddSingleton<IPublisher, DaprPublisher>();
        services.TryAddSingleton<IActorClient, DaprActorClient>();

        services.AddHostedService<DaprSidecarReadiness>();
        services.AddHealthChecks().AddCheck<DaprSidecarHealthCheck>("components");
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
    /// Serves actor type <paramref name="actorType"/> with <typeparamref name="TActor"/>, resolved
    /// in a scope of its own for every turn.
    /// </summary>
    public static IServiceCollection AddActor<TActor>(this IServiceCollection services, string actorType)
        where TActor : class, IActor
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(actorType);

        var existing = services
            .Select(descriptor => descriptor.ImplementationInstance)
            .OfType<ActorRegistration>()
            .FirstOrDefault(registration => registration.ActorType == actorType);
        if (existing is not null)
        {
            if (existing.ImplementationType == typeof(TActor)) return services;
            throw new InvalidOperationException(
                $"Actor type '{actorType}' is already served by {existing.ImplementationType.Name}; " +
                $"it cannot also be served by {typeof(TActor).Name}.");
        }

        services.AddSingleton(new ActorRegistration(actorType, typeof(TActor)));
        services.AddKeyedTransient<IActor, TActor>(actorType);
        return services;
    }

    /// <summary>Marks that the components are registered, so a second call adds nothing.</summary>
    private sealed class ComponentsRegistered;
}

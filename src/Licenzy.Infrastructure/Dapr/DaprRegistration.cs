using Dapr.Actors.Client;
using Dapr.Actors.Runtime;
using Dapr.AspNetCore;
using Grpc.Net.Client;
using Licenzy.Infrastructure.Actors;
using Licenzy.Infrastructure.PubSub;
using Licenzy.Infrastructure.State;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>The building blocks on the Dapr .NET SDK: one <c>DaprClient</c>, the actor runtime and its proxies, the app token.</summary>
internal static class DaprRegistration
{
    /// <summary>The SDK's policy for calls from the sidecar: the "Dapr" scheme, checking <c>APP_API_TOKEN</c>.</summary>
    public const string AuthorizationPolicy = "Dapr";

    /// <summary>The name Dapr.AspNetCore gives its authentication scheme (and so its named options).</summary>
    private const string AuthenticationScheme = "Dapr";

    /// <summary>
    /// How SubjectActor-style actors are hosted, on purpose: a turn keeps nothing in memory, so an
    /// idle actor is let go after minutes rather than Dapr's hour; a turn still running when
    /// placement moves its actor is let finish before the new host takes it (drain), so two
    /// replicas never run turns of one actor at once; and turns are not reentrant, so one runs at a time.
    /// </summary>
    public static readonly TimeSpan ActorIdleTimeout = TimeSpan.FromMinutes(10);

    public static void AddDaprBinding(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DaprOptions>().Bind(configuration.GetSection(DaprOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<DaprOptions>>(new DaprOptions.FromEnvironment(configuration));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DaprOptions>, DaprOptions.Validator>());

        // One client for the app: gRPC to the sidecar for state and pub/sub, HTTP for its health.
        services.AddDaprClient((provider, builder) =>
        {
            var options = provider.GetRequiredService<IOptions<DaprOptions>>().Value;
            builder.UseHttpEndpoint(options.HttpEndpointText)
                .UseGrpcEndpoint(options.GrpcEndpoint!.AbsoluteUri)
                .UseJsonSerializationOptions(LicenzyJson.Options)
                .UseTimeout(options.CallTimeout)
                .UseGrpcChannelOptions(new GrpcChannelOptions
                {
                    // The channel lives as long as the app; connections are recycled, the channel is not.
                    HttpHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), EnableMultipleHttp2Connections = true },
                });
            if (options.ApiToken is { } token) builder.UseDaprApiToken(token);
        });
        services.TryAddSingleton<DaprStateStoreFactory>();
        services.TryAddSingleton<IStateStoreFactory>(provider => provider.GetRequiredService<DaprStateStoreFactory>());
        services.TryAddSingleton<IOutboxStore, DaprOutboxStore>();
        services.TryAddSingleton<IPublisher, DaprPublisher>();

        // Registered before AddActors, which then keeps it: proxies with Licenzy's JSON, the token and a timeout.
        services.TryAddSingleton<IActorProxyFactory>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<DaprOptions>>().Value;
            return new ActorProxyFactory(new ActorProxyOptions
            {
                HttpEndpoint = options.HttpEndpointText,
                DaprApiToken = options.ApiToken ?? "",
                UseJsonSerialization = true,
                JsonSerializerOptions = LicenzyJson.Options,
                RequestTimeout = options.CallTimeout,
            });
        });
        services.TryAddSingleton<IActorProxies, DaprActorProxies>();
        services.TryAddSingleton<IActorReminders, DaprActorReminders>();
        services.AddActors(null);
        services.AddOptions<ActorRuntimeOptions>().Configure<IOptions<DaprOptions>>((actors, dapr) =>
        {
            actors.HttpEndpoint = dapr.Value.HttpEndpointText;
            // The SDK takes an empty token as none.
            actors.DaprApiToken = dapr.Value.ApiToken ?? "";
            actors.UseJsonSerialization = true;
            actors.JsonSerializerOptions = LicenzyJson.Options;
            actors.ActorIdleTimeout = ActorIdleTimeout;
            actors.DrainRebalancedActors = true;
            actors.DrainOngoingCallTimeout = dapr.Value.CallTimeout;
            actors.ReentrancyConfig = new global::Dapr.Actors.ActorReentrancyConfig { Enabled = false };
        });

        // Calls from the sidecar carry APP_API_TOKEN; the endpoints require it only when one is set.
        services.AddAuthentication().AddDapr();
        services.AddOptions<DaprAuthenticationOptions>(AuthenticationScheme)
            .Configure<IOptions<DaprOptions>>((authentication, dapr) => authentication.Token = dapr.Value.AppApiToken);
        services.AddAuthorization(options => options.AddDapr(AuthorizationPolicy));

        services.AddHostedService<DaprSidecarReadiness>();
        services.AddHealthChecks().AddCheck<DaprSidecarHealthCheck>("components");
    }
}

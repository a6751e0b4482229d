using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Polly;

namespace Licenzy.Api.Webhooks;

/// <summary>The outbound webhooks' services: options, endpoints, the delivery records, the dispatcher and its HttpClient.</summary>
public static class WebhookRegistration
{
    public static IServiceCollection AddLicenzyWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<WebhookOptions>, WebhookDefaults>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>());

        services.TryAddSingleton<IHostResolver, DnsHostResolver>();
        services.TryAddSingleton<WebhookAddressGuard>();
        services.TryAddSingleton<WebhookEndpoints>();
        services.TryAddSingleton<WebhookDeliveries>();
        services.TryAddSingleton<WebhookSender>();
        services.TryAddSingleton<WebhookDispatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<WebhookDispatcher>());
        services.TryAddSingleton<MessageBodies>();
        services.TryAddSingleton<OutboundMessages>();
        services.TryAddSingleton<OutboundReminders>();
        services.TryAddSingleton<Subjects.SubjectNotices>();
        OutboundWorkActor.AddOutboundWorkActor(services);

        services.AddHttpClient(WebhookSender.HttpClientName, http =>
            {
                // The pipeline's timeout bounds each attempt; retries are the dispatcher's schedule.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            .ConfigurePrimaryHttpMessageHandler(provider => GuardedHandler(provider.GetRequiredService<WebhookAddressGuard>()))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .AddResilienceHandler("webhooks", (pipeline, context) =>
            {
                // Only a timeout: the outer retry loop is the delivery schedule, which outlives any
                // in-memory retry, and a circuit breaker on this one client would let one tenant's
                // broken endpoint stop every tenant's deliveries. It runs on the app's clock, which
                // also decides when retries are due, so that tests move both together.
                pipeline.TimeProvider = context.ServiceProvider.GetRequiredService<TimeProvider>();
                pipeline.AddTimeout(WebhookOptions.AttemptTimeout);
            });
        return services;
    }

    /// <summary>
    /// The handler under the webhook client: no redirects (a 3xx is a failed attempt, so that a
    /// redirect cannot lead past the address check), and a connection only to the addresses the
    /// guard allows, resolved at connect time, so that DNS cannot point a checked name elsewhere later.
    /// </summary>
    internal static SocketsHttpHandler GuardedHandler(WebhookAddressGuard guard) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        ConnectTimeout = WebhookOptions.AttemptTimeout,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectCallback = async (context, ct) =>
        {
            var addresses = await guard.ResolveAsync(context.DnsEndPoint.Host, ct);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}

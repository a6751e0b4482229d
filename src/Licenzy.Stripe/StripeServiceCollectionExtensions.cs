using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StripeNet = global::Stripe;

namespace Licenzy.Stripe;

public static class StripeServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IStripeClient"/>: validated <see cref="StripeOptions"/>, the app's one
    /// Stripe.net client, and the long-lived HttpClient under it with its resilience pipeline.
    /// </summary>
    public static IServiceCollection AddLicenzyStripe(this IServiceCollection services, IConfiguration configuration)
    {
        const string prefix = StripeOptions.SectionName;
        services.AddOptions<StripeOptions>()
            .Bind(configuration.GetSection(StripeOptions.SectionName))
            .Validate(o => o.HasHttpApiBase, $"{prefix}:ApiBase must be an absolute http(s) URL")
            .Validate(o => o.AttemptTimeout >= StripeOptions.MinAttemptTimeout && o.AttemptTimeout <= StripeOptions.MaxAttemptTimeout,
                $"{prefix}:AttemptTimeout must be between 10 ms and 1 day")
            .Validate(o => o.MaxRetries is >= 0 and <= StripeOptions.RetryLimit,
                $"{prefix}:MaxRetries must be between 0 and {StripeOptions.RetryLimit}")
            .Validate(o => o.RetryBaseDelay >= TimeSpan.Zero && o.RetryBaseDelay <= StripeOptions.MaxRetryBaseDelay,
                $"{prefix}:RetryBaseDelay must be between 0 and 1 minute")
            .ValidateOnStart();

        services.AddHttpClient(StripeApiClient.HttpClientName, http =>
            {
                // Each attempt is bounded by the pipeline's timeout and the whole call by the caller's token.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            // The client lives as long as the app, so connections are recycled here to follow DNS changes.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .AddResilienceHandler(StripeHttpResilience.PipelineName, (pipeline, context) => StripeHttpResilience.Configure(pipeline,
                context.ServiceProvider.GetRequiredService<IOptions<StripeOptions>>().Value,
                context.ServiceProvider.GetRequiredService<ILogger<StripeApiClient>>()));

        // One Stripe.net client for the app, without a key of its own: every tenant's key goes with its requests.
        services.TryAddSingleton(sp => new StripeNet.StripeClient(new StripeNet.StripeClientOptions
        {
            // Stripe.net appends paths that start with a slash.
            ApiBase = sp.GetRequiredService<IOptions<StripeOptions>>().Value.ApiBase.AbsoluteUri.TrimEnd('/'),
            HttpClient = new StripeNet.SystemNetHttpClient(
                sp.GetRequiredService<IHttpClientFactory>().CreateClient(StripeApiClient.HttpClientName),
                // Retries are the pipeline's, which knows which requests are safe to repeat.
                maxNetworkRetries: 0,
                new StripeNet.AppInfo { Name = "Licenzy" },
                // Telemetry would keep an id file in the user's home folder and report request timings to Stripe.
                enableTelemetry: false),
        }));
        services.TryAddSingleton<IStripeClient, StripeApiClient>();

        return services;
    }
}

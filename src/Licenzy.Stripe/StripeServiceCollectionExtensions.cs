using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Licenzy.Stripe;

public static class StripeServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IStripeClient"/>: validated <see cref="StripeOptions"/>, one long-lived
    /// HttpClient for Stripe and the retry/timeout pipeline its calls run through.
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

        services.AddHttpClient(StripeClient.HttpClientName, (sp, http) =>
            {
                var options = sp.GetRequiredService<IOptions<StripeOptions>>().Value;
                // A trailing slash keeps any path in ApiBase when relative request paths are resolved.
                http.BaseAddress = new Uri(options.ApiBase.AbsoluteUri.TrimEnd('/') + "/");
                // Each attempt is bounded by the pipeline's timeout and the whole call by the caller's token.
                http.Timeout = Timeout.InfiniteTimeSpan;
                http.DefaultRequestHeaders.UserAgent.ParseAdd("Licenzy");
            })
            // The client lives as long as the app, so connections are recycled here to follow DNS changes.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);

        // Timeouts and backoff run on the wall clock, not on the app's TimeProvider: a test that
        // fakes business time must not also freeze every call to Stripe.
        services.TryAddKeyedSingleton(StripeClient.ResiliencePipelineKey, (sp, _) => StripeResilience.Build(
            sp.GetRequiredService<IOptions<StripeOptions>>().Value,
            TimeProvider.System,
            sp.GetRequiredService<ILogger<StripeClient>>()));

        services.TryAddSingleton<IStripeClient>(sp => new StripeClient(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(StripeClient.HttpClientName),
            sp.GetRequiredKeyedService<ResiliencePipeline<HttpResponseMessage>>(StripeClient.ResiliencePipelineKey),
            sp.GetRequiredService<ILogger<StripeClient>>()));

        return services;
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Licenzy.Client;

public static class LicenzyClientRegistration
{
    /// <summary>
    /// Registers <see cref="LicenzyClient"/> as a singleton, with its named <see cref="HttpClient"/>
    /// (the standard resilience handler: retries of transient failures with backoff, an attempt
    /// timeout, a total timeout). Retries are safe: checkout and consume carry one idempotency key
    /// per call. Returns the HTTP client's builder, to add handlers or replace the primary one.
    /// </summary>
    public static IHttpClientBuilder AddLicenzyClient(this IServiceCollection services, Action<LicenzyClientOptions> configure)
    {
        services.AddOptions<LicenzyClientOptions>().Configure(configure);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LicenzyClient>();
        var http = services.AddHttpClient(LicenzyClient.HttpClientName);
        http.AddStandardResilienceHandler();
        return http;
    }
}

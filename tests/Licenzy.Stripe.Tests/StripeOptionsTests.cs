using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Licenzy.Stripe.Tests;

public sealed class StripeOptionsTests
{
    private static IHost Host(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLicenzyStripe(builder.Configuration);
        return builder.Build();
    }

    [Fact]
    public void Defaults_apply_when_nothing_is_configured()
    {
        using var host = Host([]);

        var options = host.Services.GetRequiredService<IOptions<StripeOptions>>().Value;

        Assert.Equal(new Uri("https://api.stripe.com"), options.ApiBase);
        Assert.Equal(TimeSpan.FromSeconds(10), options.AttemptTimeout);
        Assert.Equal(2, options.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.RetryBaseDelay);
        Assert.NotNull(host.Services.GetRequiredService<IStripeClient>());
    }

    [Fact]
    public void Settings_bind_from_the_Licenzy_Stripe_section()
    {
        using var host = Host(new()
        {
            ["Licenzy:Stripe:ApiBase"] = "http://127.0.0.1:12111/stripe",
            ["Licenzy:Stripe:AttemptTimeout"] = "00:00:03",
            ["Licenzy:Stripe:MaxRetries"] = "0",
            ["Licenzy:Stripe:RetryBaseDelay"] = "00:00:00.010",
        });

        var options = host.Services.GetRequiredService<IOptions<StripeOptions>>().Value;

        Assert.Equal(new Uri("http://127.0.0.1:12111/stripe"), options.ApiBase);
        Assert.Equal(TimeSpan.FromSeconds(3), options.AttemptTimeout);
        Assert.Equal(0, options.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(10), options.RetryBaseDelay);
    }

    [Theory]
    [InlineData("AttemptTimeout", "00:00:00.010")]
    [InlineData("AttemptTimeout", "1.00:00:00")]
    [InlineData("MaxRetries", "0")]
    [InlineData("MaxRetries", "10")]
    [InlineData("RetryBaseDelay", "00:00:00")]
    [InlineData("RetryBaseDelay", "00:01:00")]
    public async Task Each_bound_is_itself_an_accepted_setting(string key, string value)
    {
        using var host = Host(new() { [$"Licenzy:Stripe:{key}"] = value });

        await host.StartAsync();

        await host.StopAsync();
    }

    [Fact]
    public void Stripes_http_client_leaves_time_limits_to_the_pipeline_and_recycles_connections()
    {
        using var host = Host([]);

        // An HttpClient's own 100 s default would cut an attempt the pipeline allows up to a day.
        var http = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient(StripeApiClient.HttpClientName);
        Assert.Equal(Timeout.InfiniteTimeSpan, http.Timeout);
        var handler = host.Services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(StripeApiClient.HttpClientName);
        while (handler is DelegatingHandler outer) handler = outer.InnerHandler;
        Assert.Equal(TimeSpan.FromMinutes(5), Assert.IsType<SocketsHttpHandler>(handler).PooledConnectionLifetime);
    }

    [Theory]
    [InlineData("ApiBase", "not a url", "Licenzy:Stripe:ApiBase must be an absolute http(s) URL")]
    [InlineData("ApiBase", "/v1", "Licenzy:Stripe:ApiBase must be an absolute http(s) URL")]
    [InlineData("ApiBase", "ftp://api.stripe.com", "Licenzy:Stripe:ApiBase must be an absolute http(s) URL")]
    [InlineData("AttemptTimeout", "00:00:00", "Licenzy:Stripe:AttemptTimeout")]
    [InlineData("AttemptTimeout", "-00:00:01", "Licenzy:Stripe:AttemptTimeout")]
    [InlineData("MaxRetries", "-1", "Licenzy:Stripe:MaxRetries")]
    [InlineData("MaxRetries", "11", "Licenzy:Stripe:MaxRetries")]
    [InlineData("RetryBaseDelay", "-00:00:01", "Licenzy:Stripe:RetryBaseDelay")]
    [InlineData("RetryBaseDelay", "00:05:00", "Licenzy:Stripe:RetryBaseDelay")]
    public async Task A_wrong_setting_stops_the_app_at_start_naming_the_key(string key, string value, string message)
    {
        using var host = Host(new() { [$"Licenzy:Stripe:{key}"] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(message, error.Message);
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Licenzy.Stripe.Tests;

/// <summary>
/// The pipeline on the HttpClient Stripe.net sends through, on its own, where what happens to
/// discarded responses and to requests Stripe.net never sends (a POST without a key) can be seen.
/// </summary>
public sealed class StripeResilienceTests : IDisposable
{
    private readonly List<ServiceProvider> providers = [];
    private readonly LogCapture logs = new();

    public void Dispose()
    {
        foreach (var provider in providers) provider.Dispose();
    }

    [Fact]
    public async Task Responses_retried_past_are_disposed_and_the_last_is_not()
    {
        var answers = new Queue<TrackedResponse>([new(HttpStatusCode.ServiceUnavailable), new(HttpStatusCode.BadGateway), new(HttpStatusCode.OK)]);
        var sent = new List<TrackedResponse>();
        var http = Http(_ =>
        {
            var answer = answers.Dequeue();
            sent.Add(answer);
            return answer;
        });

        using var last = await http.GetAsync("v1/balance");

        Assert.Equal(HttpStatusCode.OK, last.StatusCode);
        Assert.True(sent[0].Disposed);
        Assert.True(sent[1].Disposed);
        Assert.False(sent[2].Disposed);
    }

    [Fact]
    public async Task A_post_without_an_idempotency_key_is_never_retried()
    {
        var attempts = 0;
        var http = Http(_ =>
        {
            attempts++;
            return new TrackedResponse(HttpStatusCode.ServiceUnavailable);
        });

        using var response = await http.PostAsync("v1/checkout/sessions", new FormUrlEncodedContent([]));

        Assert.Equal(1, attempts);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task A_network_failure_on_a_post_without_an_idempotency_key_is_not_retried()
    {
        var attempts = 0;
        var http = Http(_ =>
        {
            attempts++;
            throw new HttpRequestException("connection reset");
        });

        await Assert.ThrowsAsync<HttpRequestException>(() => http.PostAsync("v1/checkout/sessions", new FormUrlEncodedContent([])));

        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task A_post_with_an_idempotency_key_is_retried_with_it()
    {
        var keys = new List<string>();
        var http = Http(request =>
        {
            keys.Add(request.Headers.GetValues("Idempotency-Key").Single());
            return new TrackedResponse(keys.Count < 3 ? HttpStatusCode.InternalServerError : HttpStatusCode.OK);
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/checkout/sessions") { Content = new FormUrlEncodedContent([]) };
        request.Headers.Add("Idempotency-Key", "k1");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["k1", "k1", "k1"], keys);
    }

    [Fact]
    public async Task Retry_after_does_not_stretch_the_delay_beyond_the_configured_one()
    {
        // Delays follow Licenzy:Stripe:RetryBaseDelay as documented, whatever Retry-After says.
        var attempts = 0;
        var http = Http(_ =>
        {
            var response = new TrackedResponse(++attempts == 1 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK);
            response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromMinutes(10));
            return response;
        });
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        using var response = await http.GetAsync("v1/balance", patience.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(Assert.Single(RetryDelays()) < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Retry_delays_are_jittered_so_that_clients_do_not_retry_in_step()
    {
        var http = Http(_ => new TrackedResponse(HttpStatusCode.ServiceUnavailable));

        using var response = await http.GetAsync("v1/balance");

        // Without jitter they would be exactly the base delay (1 ms), then twice it.
        Assert.Equal(2, RetryDelays().Count);
        Assert.NotEqual([TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2)], RetryDelays());
    }

    [Fact]
    public void Only_what_says_Stripe_itself_is_unwell_counts_toward_the_breaker()
    {
        Assert.True(Unwell(HttpStatusCode.InternalServerError));
        Assert.True(Unwell(HttpStatusCode.ServiceUnavailable));
        Assert.True(Unwell(new HttpRequestException("connection refused")));
        Assert.True(Unwell(new TimeoutRejectedException()));

        Assert.False(Unwell(HttpStatusCode.TooManyRequests));
        Assert.False(Unwell(HttpStatusCode.BadRequest));
        Assert.False(Unwell(HttpStatusCode.OK));
        Assert.False(Unwell(new OperationCanceledException()));
        Assert.False(Unwell(new BrokenCircuitException()));
    }

    private static bool Unwell(HttpStatusCode status)
    {
        using var response = new HttpResponseMessage(status);
        return StripeHttpResilience.IsStripeUnwell(Outcome.FromResult(response));
    }

    private static bool Unwell(Exception failure) =>
        StripeHttpResilience.IsStripeUnwell(Outcome.FromException<HttpResponseMessage>(failure));

    /// <summary>The delays the retry log lines announce, in order.</summary>
    private List<TimeSpan> RetryDelays() => logs.Entries
        .Select(entry => entry.Split(" Delay=", 2))
        .Where(parts => parts.Length == 2)
        .Select(parts => TimeSpan.Parse(parts[1].Split(' ')[0], CultureInfo.InvariantCulture))
        .ToList();

    private HttpClient Http(Func<HttpRequestMessage, HttpResponseMessage> answer)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Licenzy:Stripe:ApiBase"] = "http://stripe.test",
            ["Licenzy:Stripe:MaxRetries"] = "2",
            ["Licenzy:Stripe:RetryBaseDelay"] = "00:00:00.001",
        }).Build();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(logs))
            .AddLicenzyStripe(configuration);
        services.AddHttpClient(StripeApiClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new Answering(answer));
        var provider = services.BuildServiceProvider();
        providers.Add(provider);
        var http = provider.GetRequiredService<IHttpClientFactory>().CreateClient(StripeApiClient.HttpClientName);
        http.BaseAddress = new Uri("http://stripe.test/");
        return http;
    }

    private sealed class Answering(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(request));
    }

    private sealed class TrackedResponse(HttpStatusCode status) : HttpResponseMessage(status)
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}

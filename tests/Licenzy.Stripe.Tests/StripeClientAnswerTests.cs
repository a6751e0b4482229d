using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Stripe.Tests;

/// <summary>
/// StripeClient over a handler that answers what the stand-in does not: bodies that are not
/// Stripe's, and where what Stripe.net sends can be seen header by header.
/// </summary>
public sealed class StripeClientAnswerTests : IDisposable
{
    private const string TestKey = "sk_test_51Answer0Tests0Secret0Key";
    private const string BalanceJson = """{"object":"balance","livemode":false,"available":[],"pending":[]}""";

    private readonly List<ServiceProvider> providers = [];
    private readonly List<HttpRequestMessage> sent = [];

    public void Dispose()
    {
        foreach (var provider in providers) provider.Dispose();
    }

    [Fact]
    public async Task A_success_whose_body_is_not_a_Stripe_object_is_a_payload_error_that_does_not_quote_it()
    {
        var client = Client(() => Answer(HttpStatusCode.OK, "<html>cus_private_marker</html>"));

        var error = await Assert.ThrowsAsync<StripePayloadException>(() => client.GetBalanceAsync(TestKey, default));

        Assert.Equal("Stripe answered GET /v1/balance with a body that is not a Stripe object", error.Reason);
        Assert.Equal("Unreadable Stripe payload: Stripe answered GET /v1/balance with a body that is not a Stripe object", error.Message);
    }

    [Fact]
    public async Task An_error_without_Stripes_error_envelope_is_named_by_its_status()
    {
        var client = Client(() => Answer(HttpStatusCode.BadGateway, "<html>Bad gateway</html>"));

        var error = await Assert.ThrowsAsync<StripeApiException>(() => client.GetBalanceAsync(TestKey, default));

        Assert.Equal(502, error.HttpStatus);
        Assert.Null(error.ErrorType);
        Assert.Equal("Stripe answered GET /v1/balance with HTTP 502", error.Message);
    }

    [Fact]
    public async Task Requests_tell_Stripe_they_come_from_Licenzy_and_report_no_telemetry()
    {
        var client = Client(() => Answer(HttpStatusCode.OK, BalanceJson));

        await client.GetBalanceAsync(TestKey, default);
        await client.GetBalanceAsync(TestKey, default);

        Assert.All(sent, request => Assert.Contains("Licenzy", request.Headers.UserAgent.ToString(), StringComparison.Ordinal));
        // Stripe.net reports the previous request's timing on the next one when telemetry is on.
        Assert.All(sent, request => Assert.False(request.Headers.Contains("X-Stripe-Client-Telemetry")));
    }

    private IStripeClient Client(Func<HttpResponseMessage> answer)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Licenzy:Stripe:ApiBase"] = "http://stripe.test",
            ["Licenzy:Stripe:MaxRetries"] = "0",
        }).Build();
        var services = new ServiceCollection().AddLogging().AddLicenzyStripe(configuration);
        services.AddHttpClient(StripeApiClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new Answering(request =>
        {
            sent.Add(request);
            return answer();
        }));
        var provider = services.BuildServiceProvider();
        providers.Add(provider);
        return provider.GetRequiredService<IStripeClient>();
    }

    private static HttpResponseMessage Answer(HttpStatusCode status, string body) => new(status)
    {
        Content = new StringContent(body, Encoding.UTF8, body.StartsWith('{') ? "application/json" : "text/html"),
        Headers = { { "Request-Id", "req_answer" } },
    };

    private sealed class Answering(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(request));
    }
}

using System.Net;
using Licenzy.Standalone;

namespace Licenzy.Standalone.Tests;

/// <summary>The image's HEALTHCHECK: <c>healthcheck [url]</c> exits 0 only when the URL answers 2xx.</summary>
public sealed class HealthProbeTests
{
    [Theory]
    [InlineData(HttpStatusCode.OK, 0)]
    [InlineData(HttpStatusCode.ServiceUnavailable, 1)]
    [InlineData(HttpStatusCode.NotFound, 1)]
    public async Task Exits_0_only_when_the_url_answers_success(HttpStatusCode status, int exitCode)
    {
        var handler = new Answering(status);
        var error = new StringWriter();

        var code = await HealthProbe.RunAsync(["healthcheck", "http://127.0.0.1:9999/readyz"], error, handler);

        Assert.Equal(exitCode, code);
        Assert.Equal(new Uri("http://127.0.0.1:9999/readyz"), handler.Asked);
        Assert.Equal(exitCode == 0 ? "" : $"http://127.0.0.1:9999/readyz answered {(int)status}", error.ToString().Trim());
    }

    [Fact]
    public async Task Asks_the_images_port_by_default()
    {
        var handler = new Answering(HttpStatusCode.OK);

        Assert.Equal(0, await HealthProbe.RunAsync(["healthcheck"], TextWriter.Null, handler));
        Assert.Equal(new Uri("http://127.0.0.1:8080/readyz"), handler.Asked);
    }

    [Fact]
    public async Task Exits_1_saying_so_when_nothing_listens()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var error = new StringWriter();

        Assert.Equal(1, await HealthProbe.RunAsync(["healthcheck", $"http://127.0.0.1:{port}/readyz"], error));
        Assert.StartsWith($"http://127.0.0.1:{port}/readyz did not answer", error.ToString());
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://127.0.0.1/readyz")]
    public async Task Exits_2_with_its_usage_for_a_url_it_cannot_ask(string url)
    {
        var error = new StringWriter();

        Assert.Equal(2, await HealthProbe.RunAsync(["healthcheck", url], error, new Answering(HttpStatusCode.OK)));
        Assert.StartsWith("usage: healthcheck", error.ToString());
    }

    [Fact]
    public void Handles_only_its_own_verb()
    {
        Assert.True(HealthProbe.Handles(["healthcheck"]));
        Assert.False(HealthProbe.Handles([]));
        Assert.False(HealthProbe.Handles(["--urls", "http://+:8080"]));
    }

    private sealed class Answering(HttpStatusCode status) : HttpMessageHandler
    {
        public Uri? Asked { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Asked = request.RequestUri;
            return Task.FromResult(new HttpResponseMessage(status));
        }
    }
}

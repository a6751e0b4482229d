using Licenzy.Sandbox.Webhooks;
using Licenzy.Stripe;
using Licenzy.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Sandbox.Tests;

/// <summary>
/// The standalone app in memory with the sandbox on, as a developer runs it: Licenzy's Stripe
/// client talks to the sandbox, and the sandbox delivers its webhooks to Licenzy's ingest route,
/// both over HTTP into this same in-memory server (the two named clients' handlers are swapped
/// for the test server's). Every webhook the sandbox sends is recorded with Licenzy's answer.
/// </summary>
public class SandboxedLicenzy : LicenzyApp
{
    public const string Origin = "http://localhost";

    public SandboxedLicenzy()
    {
        Settings["Licenzy:Sandbox:Enabled"] = "true";
        Settings["Licenzy:Sandbox:BaseUrl"] = Origin;
        Settings["Licenzy:Stripe:ApiBase"] = Origin + "/sandbox/stripe";
        // What a developer sets to let Licenzy register its own webhook endpoint with the sandbox.
        Settings["Licenzy:PublicBaseUrl"] = Origin;
    }

    public WebhookLog Webhooks { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddHttpClient(StripeApiClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => Server.CreateHandler());
            services.AddHttpClient(WebhookSender.HttpClientName)
                .ConfigurePrimaryHttpMessageHandler(() => new RecordingHandler(Webhooks) { InnerHandler = Server.CreateHandler() });
        });
    }

    /// <summary>A client that does not follow redirects, to see where Pay and Cancel send the browser.</summary>
    public HttpClient BrowserClient() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
}

using Licenzy.Infrastructure.Http;
using Licenzy.Sandbox.Account;
using Licenzy.Sandbox.Checkout;
using Licenzy.Sandbox.Prices;
using Licenzy.Sandbox.Receiver;
using Licenzy.Sandbox.StripeApi;
using Licenzy.Sandbox.Triggers;
using Licenzy.Sandbox.Webhooks;
using Licenzy.Stripe;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Licenzy.Sandbox;

/// <summary>
/// The offline Stripe sandbox as two calls. Composed into an app that also runs Licenzy's Api and
/// Ingest, it lets the whole flow run on one machine without a Stripe account: a Stripe stand-in
/// that Licenzy's Stripe client is pointed at, a checkout page, and lifecycle triggers.
/// </summary>
public static partial class SandboxApp
{
    public const string RoutePrefix = "/sandbox";

    private const string StripeApiBaseKey = StripeOptions.SectionName + ":ApiBase";

    public static WebApplicationBuilder AddLicenzySandbox(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddLicenzyHostDefaults();
        services.AddOptions<SandboxOptions>().Bind(builder.Configuration.GetSection(SandboxOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IConfigureOptions<SandboxOptions>, SandboxDefaults>();
        services.AddSingleton<IValidateOptions<SandboxOptions>, SandboxOptionsValidation>();

        // With the sandbox on and no Stripe chosen explicitly, Licenzy's Stripe client talks to the sandbox.
        services.AddOptions<StripeOptions>().PostConfigure<IOptions<SandboxOptions>, IConfiguration>((stripe, sandbox, configuration) =>
        {
            if (sandbox.Value.IsEnabled && string.IsNullOrWhiteSpace(configuration[StripeApiBaseKey])) stripe.ApiBase = sandbox.Value.StripeApiBase;
        });

        services.AddSingleton<SandboxAccount>();
        services.AddSingleton<CheckoutCompletion>();
        services.AddSingleton<LifecycleTriggers>();
        services.AddSingleton<WebhookDeliveries>();
        services.AddSingleton<ReceivedWebhooks>();
        services.AddHttpClient(WebhookSender.HttpClientName, (sp, http) =>
            {
                var options = sp.GetRequiredService<IOptions<SandboxOptions>>().Value;
                http.BaseAddress = new Uri(options.Origin + "/");
                http.Timeout = options.DeliveryTimeout;
                http.DefaultRequestHeaders.UserAgent.ParseAdd("Licenzy-Sandbox");
            })
            // One client for the app's life, so connections are recycled here instead.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan);
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<WebhookSender>(sp,
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(WebhookSender.HttpClientName)));
        return builder;
    }

    /// <summary>Maps the sandbox's routes under <c>/sandbox</c>, or nothing at all when it is off.</summary>
    public static WebApplication MapLicenzySandbox(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<SandboxOptions>>().Value;
        if (!options.IsEnabled) return app;

        app.UseLicenzyHostDefaults();
        var sandbox = app.MapGroup(RoutePrefix);
        sandbox.MapSandboxStripeApi();
        sandbox.MapSandboxCheckout();
        sandbox.MapSandboxPrices();
        sandbox.MapSandboxTriggers();
        sandbox.MapSandboxReceiver();

        var stripeApiBase = app.Services.GetRequiredService<IOptions<StripeOptions>>().Value.ApiBase;
        LogEnabled(app.Logger, options.Origin + RoutePrefix, stripeApiBase);
        if (stripeApiBase != options.StripeApiBase) LogStripeElsewhere(app.Logger, StripeApiBaseKey);
        return app;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Offline Stripe sandbox on at {SandboxUrl} (test mode only); Licenzy's Stripe client calls {StripeApiBase}. "
            + "Connect Stripe with any sk_test_ key and the sandbox's webhook secret (see docs/sandbox.md).")]
    private static partial void LogEnabled(ILogger logger, string sandboxUrl, Uri stripeApiBase);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Key} is set, so Licenzy calls that Stripe, not the sandbox; checkouts made there do not show the sandbox's page.")]
    private static partial void LogStripeElsewhere(ILogger logger, string key);
}

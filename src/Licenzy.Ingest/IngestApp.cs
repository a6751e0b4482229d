using Licenzy.Infrastructure.Telemetry;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.Http;
using Licenzy.Infrastructure.Secrets;
using Licenzy.Ingest.Webhooks;

namespace Licenzy.Ingest;

/// <summary>The Ingest app as two calls, so that its own Program and the standalone app compose it the same way.</summary>
public static class IngestApp
{
    public static WebApplicationBuilder AddLicenzyIngest(this WebApplicationBuilder builder)
    {
        builder.Services.AddLicenzyHostDefaults();
        builder.AddLicenzyTelemetry();
        builder.Services.AddLicenzyOpenApi();
        builder.Services.AddLicenzyComponents(builder.Configuration);
        builder.Services.AddLicenzySecrets(builder.Configuration);
        builder.Services.AddSingleton<WebhookSecrets>();
        return builder;
    }

    public static WebApplication MapLicenzyIngest(this WebApplication app)
    {
        app.UseLicenzyHostDefaults();
        app.MapLicenzyOpenApi();
        app.MapStripeWebhooks();
        return app;
    }
}

using Licenzy.Portal;
using Licenzy.Infrastructure.Telemetry;
using Licenzy.Api.Access;
using Licenzy.Api.Billing;
using Licenzy.Api.Checkout;
using Licenzy.Api.Http;
using Licenzy.Api.Licenses;
using Licenzy.Api.Reads;
using Licenzy.Api.Setup;
using Licenzy.Api.Subjects;
using Licenzy.Api.Tokens;
using Licenzy.Api.Usage;
using Licenzy.Api.Webhooks;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.Http;
using Licenzy.Infrastructure.Secrets;
using Licenzy.Stripe;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Licenzy.Api;

/// <summary>The Api app as two calls, so that its own Program and the standalone app compose it the same way.</summary>
public static class ApiApp
{
    public static WebApplicationBuilder AddLicenzyApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ApiOptions>().Bind(builder.Configuration.GetSection(ApiOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>());
        services.AddLicenzyHostDefaults();
        builder.AddLicenzyTelemetry();
        builder.AddLicenzyPortal();
        services.AddLicenzyOpenApi();
        services.AddLicenzyComponents(builder.Configuration);
        services.AddLicenzySecrets(builder.Configuration);
        services.AddLicenzyStripe(builder.Configuration);

        services.AddSingleton<ReadCaches>();
        services.AddSingleton<ISubjectView, PortalSubjectView>();
        services.AddSingleton<ApiKeys>();
        services.AddSingleton<ApiKeyUses>();
        services.AddSingleton<Tenants>();
        services.AddSingleton<StripeWebhookRegistration>();
        services.AddSingleton<ProductCatalog>();
        services.AddSingleton<AccessIndex>();
        services.AddHostedService<AccessIndexLoader>();
        services.AddHealthChecks().AddCheck<AccessIndexHealthCheck>("access-index");
        services.AddSingleton<SubjectReader>();
        services.AddSingleton<SubjectHistory>();
        services.AddSingleton<LicenseKeys>();
        services.AddSingleton<LicenseReader>();
        services.AddSingleton<SubjectMemory>();
        services.AddSingleton<UsageQueue>();
        services.AddSingleton<DeadLetters>();
        services.AddSingleton<PaymentIndex>();
        services.AddSingleton<StripeEventTranslator>();
        SubjectActor.AddSubjectActor(services);
        services.AddSubscriber<BillingEventSubscriber>();
        services.AddSubscriber<DeadLetterSubscriber>();
        services.AddLicenzyWebhooks(builder.Configuration);
        services.AddOptions<TokenOptions>().Bind(builder.Configuration.GetSection(TokenOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TokenOptions>, TokenOptionsValidator>());
        services.AddSingleton<TokenKeys>();
        services.AddSingleton<EntitlementTokens>();
        return builder;
    }

    public static WebApplication MapLicenzyApi(this WebApplication app)
    {
        app.UseLicenzyHostDefaults();
        app.MapLicenzyOpenApi();
        var runtime = app.MapGroup("/v1").RequireRuntimeKey()
            .RequiresBearer(OpenApiDocument.RuntimeKey).ProducesProblems(StatusCodes.Status401Unauthorized);
        runtime.MapCheckoutApi();
        runtime.MapAccessApi();
        runtime.MapUsageApi();
        runtime.MapLicensesApi();
        runtime.MapTokensApi();
        app.MapJwks();
        app.MapSetupApi();
        app.MapLicenzyPortal();
        return app;
    }
}

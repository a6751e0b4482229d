using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Licenzy.Infrastructure.Dapr;

namespace Licenzy.Infrastructure.Http;

/// <summary>
/// What every Licenzy web app has, whichever apps a process composes: problem+json for every
/// error (including unknown routes and unhandled exceptions), the JSON policy, and health
/// endpoints mapped in every environment so Kubernetes probes always find them.
/// </summary>
public static class HostDefaults
{
    public const string LivenessPath = "/healthz";
    public const string ReadinessPath = "/readyz";
    public const string ReadyTag = "ready";

    private sealed class Marker;

    public static IServiceCollection AddLicenzyHostDefaults(this IServiceCollection services)
    {
        if (services.Any(s => s.ServiceType == typeof(Marker))) return services;
        services.AddSingleton<Marker>();
        services.TryAddSingleton(TimeProvider.System);
        services.ConfigureHttpJsonOptions(options => LicenzyJson.ApplyTo(options.SerializerOptions));
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // snake_case like every other member of the API, and on every problem (ASP.NET adds traceId).
            var extensions = context.ProblemDetails.Extensions;
            extensions.Remove("traceId");
            extensions["trace_id"] = System.Diagnostics.Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
        });
        services.AddHealthChecks();
        return services;
    }

    public static WebApplication UseLicenzyHostDefaults(this WebApplication app)
    {
        var properties = ((IApplicationBuilder)app).Properties;
        if (properties.ContainsKey(nameof(HostDefaults))) return app;
        properties[nameof(HostDefaults)] = true;

        app.UseExceptionHandler(error => error.Run(async context =>
        {
            var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            if (exception is BadHttpRequestException bad)
            {
                await ApiError.ForStatus(bad.StatusCode).ToResult().ExecuteAsync(context);
                return;
            }
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Licenzy.Errors")
                .LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path.Value);
            await ApiError.Internal().ToResult().ExecuteAsync(context);
        }));
        app.UseStatusCodePages(async status =>
        {
            var response = status.HttpContext.Response;
            if (response.HasStarted || response.ContentLength > 0 || response.ContentType is not null) return;
            await ApiError.ForStatus(response.StatusCode).ToResult().ExecuteAsync(status.HttpContext);
        });

        app.MapHealthChecks(LivenessPath, new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks(ReadinessPath);
        if (ComponentsRegistration.BindingOf(app.Configuration) == ComponentsBinding.Dapr) app.MapDaprAppEndpoints();
        return app;
    }
}

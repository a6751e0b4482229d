using System.Diagnostics;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Licenzy.Infrastructure.Http;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Licenzy.Infrastructure.Telemetry;

/// <summary>
/// Traces, metrics and logs over OpenTelemetry, exported with OTLP and configured the standard
/// way (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>,
/// <c>OTEL_SERVICE_NAME</c>, <c>OTEL_RESOURCE_ATTRIBUTES</c>, <c>OTEL_METRIC_EXPORT_INTERVAL</c>,
/// ...). Off unless an OTLP endpoint is configured; <c>OTEL_SDK_DISABLED=true</c> turns it off
/// again. Licenzy's own spans come from <see cref="Source"/>, its instruments from
/// <see cref="LicenzyMetrics"/> (meter <see cref="Name"/>); when off, both cost a check each.
/// </summary>
public static class LicenzyTelemetry
{
    /// <summary>The name of Licenzy's activity source and meter.</summary>
    public const string Name = "Licenzy";

    public static readonly ActivitySource Source = new(Name, typeof(LicenzyTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly string[] EndpointKeys =
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ];

    private sealed class Marker;

    /// <summary>
    /// <c>Licenzy:Telemetry:TraceAllRequests</c>: a server span for every HTTP request (ASP.NET
    /// Core's instrumentation). Off by default: that costs the access check about a quarter of its
    /// rate (bench/README.md); Licenzy's own spans (a Stripe webhook received, a message
    /// processed, a subject's change) follow one event either way. Registered per app, so two
    /// apps in one process (tests) each keep their own.
    /// </summary>
    private sealed record Settings(bool TraceAllRequests);

    /// <summary>True when an OTLP endpoint is configured and the SDK is not disabled.</summary>
    public static bool IsOn(IConfiguration configuration) =>
        !string.Equals(configuration["OTEL_SDK_DISABLED"], "true", StringComparison.OrdinalIgnoreCase)
        && EndpointKeys.Any(key => !string.IsNullOrWhiteSpace(configuration[key]));

    /// <summary>Registers <see cref="LicenzyMetrics"/> always, and the OpenTelemetry SDK with its OTLP exporter when <see cref="IsOn"/>. Safe to repeat.</summary>
    public static WebApplicationBuilder AddLicenzyTelemetry(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        if (services.Any(s => s.ServiceType == typeof(Marker))) return builder;
        services.AddSingleton<Marker>();
        services.AddMetrics();
        services.TryAddSingleton<LicenzyMetrics>();
        // Every log written inside a request or a delivery carries its trace and span ids (in the
        // OTLP export, and in console scopes where IncludeScopes is on).
        builder.Logging.Configure(options =>
            options.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        if (!IsOn(builder.Configuration)) return builder;

        var configuration = builder.Configuration;
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(DefaultServiceName()));
        // OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER / OTEL_LOGS_EXPORTER = none leave a signal out.
        var traceAllRequests = string.Equals(configuration["Licenzy:Telemetry:TraceAllRequests"], "true", StringComparison.OrdinalIgnoreCase);
        services.AddSingleton(new Settings(traceAllRequests));
        if (Exports(configuration, "OTEL_TRACES_EXPORTER"))
        {
            telemetry.WithTracing(tracing =>
            {
                tracing.AddSource(Name)
                    // The gRPC client's call spans (the Dapr sidecar's API): without them the HTTP spans
                    // under them would hang from a parent no exporter saw.
                    .AddSource("Grpc.Net.Client")
                    .AddHttpClientInstrumentation();
                if (traceAllRequests)
                    tracing.AddAspNetCoreInstrumentation(options => options.Filter = context => !IsProbe(context.Request.Path));
            });
        }
        if (Exports(configuration, "OTEL_METRICS_EXPORTER"))
        {
            // ASP.NET Core's request metrics (http.server.request.duration and the rest) only with
            // every request traced: recorded per request, they cost the access check about 12 %.
            telemetry.WithMetrics(metrics =>
            {
                metrics.AddMeter(Name).AddHttpClientInstrumentation().AddRuntimeInstrumentation();
                if (traceAllRequests) metrics.AddAspNetCoreInstrumentation();
            });
        }
        if (Exports(configuration, "OTEL_LOGS_EXPORTER"))
            telemetry.WithLogging(_ => { }, options => options.IncludeScopes = true);
        telemetry.UseOtlpExporter();
        return builder;
    }

    private static bool Exports(IConfiguration configuration, string key) =>
        !string.Equals(configuration[key], "none", StringComparison.OrdinalIgnoreCase);

    /// <summary>licenzy-standalone, licenzy-api, licenzy-ingest: from the app that runs; OTEL_SERVICE_NAME overrides it.</summary>
    private static string DefaultServiceName() =>
        (Assembly.GetEntryAssembly()?.GetName().Name ?? Name).Replace('.', '-').ToLowerInvariant();

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments(HostDefaults.LivenessPath) || path.StartsWithSegments(HostDefaults.ReadinessPath);

    /// <summary>
    /// The span of one message taken from a topic: a consumer span whose parent is the context the
    /// publisher carried in the message (W3C <c>traceparent</c>), so a Stripe event's trace goes
    /// from the webhook request through the topic to the subject's write. Null when nothing listens.
    /// </summary>
    public static Activity? StartProcessing(string topic, string messageId, string? traceParent)
    {
        if (!Source.HasListeners()) return null;
        ActivityContext.TryParse(traceParent, traceState: null, isRemote: true, out var parent);
        var activity = Source.StartActivity($"{topic} process", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.destination.name", topic);
        activity?.SetTag("messaging.message.id", messageId);
        return activity;
    }

    /// <summary>
    /// The server span of a request Licenzy traces itself (a Stripe webhook received) when ASP.NET
    /// Core's instrumentation is off: a child of the caller's trace context, not of the request's
    /// own activity, which no exporter sees then. With every request traced, a child of that span.
    /// </summary>
    public static Activity? StartRequest(Microsoft.AspNetCore.Http.HttpContext context, string route)
    {
        if (!Source.HasListeners()) return null;
        var request = context.Request;
        Activity? activity;
        if (TracesAllRequests(context))
        {
            activity = Source.StartActivity(route, ActivityKind.Internal);
        }
        else
        {
            // The request's own activity is no exporter's (so never sampled): the span hangs from the
            // caller's context when there is one, else it starts a trace, rather than from that.
            ActivityContext.TryParse(request.Headers.TraceParent.ToString(), request.Headers.TraceState.ToString(), isRemote: true, out var parent);
            Activity.Current = null;
            activity = Source.StartActivity($"{request.Method} {route}", ActivityKind.Server, parent);
        }
        activity?.SetTag("http.request.method", request.Method);
        activity?.SetTag("http.route", route);
        activity?.SetTag("url.path", request.Path.Value);
        return activity;
    }

    /// <summary>The caller's traceparent, for a delivery's span when requests are not traced (see <see cref="StartRequest"/>).</summary>
    public static string? IncomingTraceParent(Microsoft.AspNetCore.Http.HttpContext context) =>
        TracesAllRequests(context) ? null : context.Request.Headers.TraceParent.ToString() is { Length: > 0 } header ? header : null;

    /// <summary>Whether ASP.NET Core's instrumentation makes the request's span (telemetry on, with TraceAllRequests).</summary>
    private static bool TracesAllRequests(Microsoft.AspNetCore.Http.HttpContext context) =>
        context.RequestServices.GetService<Settings>()?.TraceAllRequests ?? false;

    /// <summary>The W3C traceparent of the current span, to carry in a message published now; null outside any span.</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Infrastructure;
using Licenzy.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Licenzy.Api.Tests;

/// <summary>Alone: the SDK's listeners are process-wide, so no other app may make spans or measurements meanwhile.</summary>
[CollectionDefinition(nameof(TelemetryCollection), DisableParallelization = true)]
public sealed class TelemetryCollection;

/// <summary>
/// With an OTLP endpoint configured (the standard OTEL_* settings), the app's traces, metrics and
/// logs, read through the SDK's in-memory exporter added beside the OTLP one.
/// </summary>
[Collection(nameof(TelemetryCollection))]
public sealed class TelemetryTestsOnEmbedded() : TelemetryTests(onDapr: false);

[Collection(nameof(TelemetryCollection))]
public sealed class TelemetryTestsOnEmbeddedTracingEveryRequest() : TelemetryTests(onDapr: false, traceAllRequests: true);

[Collection(nameof(TelemetryCollection))]
public sealed class TelemetryTestsOnDapr() : TelemetryTests(onDapr: true);

public abstract class TelemetryTests(bool onDapr, bool traceAllRequests = false) : IAsyncLifetime
{
    /// <summary>A collection the exporter may add to from any thread.</summary>
    private sealed class Captured<T> : ICollection<T>
    {
        private readonly List<T> _items = [];
        public int Count { get { lock (_items) return _items.Count; } }
        public bool IsReadOnly => false;
        public void Add(T item) { lock (_items) _items.Add(item); }
        public void Clear() { lock (_items) _items.Clear(); }
        public bool Contains(T item) { lock (_items) return _items.Contains(item); }
        public void CopyTo(T[] array, int arrayIndex) { lock (_items) _items.CopyTo(array, arrayIndex); }
        public bool Remove(T item) { lock (_items) return _items.Remove(item); }
        public List<T> Snapshot() { lock (_items) return [.. _items]; }
        public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Each log record's trace id and text, taken as it is written.</summary>
    private sealed class LogCapture(Captured<(ActivityTraceId TraceId, string Text)> logs) : BaseProcessor<LogRecord>
    {
        public override void OnEnd(LogRecord record) =>
            logs.Add((record.TraceId, record.FormattedMessage ?? record.Body ?? ""));
    }

    private sealed class TelemetryApp(bool onDapr) : LicenzyApp
    {
        public bool TraceAllRequests { get; init; }

        protected override bool OnDapr => onDapr;

        public Captured<Activity> Spans { get; } = new();
        public Captured<MetricSnapshot> Metrics { get; } = new();
        public Captured<(ActivityTraceId TraceId, string Text)> Logs { get; } = new();

        public TelemetryApp() : this(false)
        {
        }

        public void TurnOn()
        {
            // On, as an operator turns it on; the collector is nowhere (connection refused at once).
            Settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9";
            Settings["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
            Settings["OTEL_EXPORTER_OTLP_TIMEOUT"] = "1000";
            if (TraceAllRequests) Settings["Licenzy:Telemetry:TraceAllRequests"] = "true";
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
            {
                services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));
                services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(Metrics));
                services.ConfigureOpenTelemetryLoggerProvider(logging => logging.AddProcessor(new LogCapture(Logs)));
            });
        }

        /// <summary>The metrics as of now: collected, exported to memory, the latest snapshot of each.</summary>
        public Dictionary<string, MetricSnapshot> CollectMetrics()
        {
            Metrics.Clear();
            Assert.True(Services.GetRequiredService<MeterProvider>().ForceFlush(5_000) || Metrics.Count > 0);
            return Metrics.Snapshot().GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.Last());
        }
    }

    private readonly TelemetryApp _app = new(onDapr) { TraceAllRequests = traceAllRequests };

    public Task InitializeAsync()
    {
        _app.TurnOn();
        return ((IAsyncLifetime)_app).InitializeAsync();
    }

    public Task DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task One_Stripe_event_is_one_trace_from_the_webhook_request_through_the_topic_to_the_subjects_write()
    {
        Assert.NotNull(_app.Services.GetService<TracerProvider>());
        var tenant = await TestTenant.CreateAsync(_app);
        await tenant.BuyAsync("user_1", TestTenant.Subscription);

        var apply = await SpanAsync(s => s.Source.Name == "Licenzy" && s.DisplayName == "SubjectActor apply");
        Assert.Equal("checkout.session.completed", apply.GetTagItem("licenzy.stripe.event_type"));
        var process = await SpanAsync(s => s.SpanId == apply.ParentSpanId);
        Assert.Equal($"{Topics.BillingEvents} process", process.DisplayName);
        Assert.Equal(ActivityKind.Consumer, process.Kind);
        // Up from the delivery to the webhook request; on Dapr through the sidecar's delivery
        // request and the app's call to the sidecar, whose trace context it carried.
        var ancestor = process;
        while (ancestor.GetTagItem("url.path") as string is not { } path || !path.StartsWith("/v1/webhooks/stripe/", StringComparison.Ordinal))
        {
            Assert.NotEqual(default, ancestor.ParentSpanId);
            var parentId = ancestor.ParentSpanId;
            ancestor = await SpanAsync(s => s.SpanId == parentId);
        }
        var request = ancestor;
        Assert.Equal($"/v1/webhooks/stripe/{tenant.TenantId}/test", request.GetTagItem("url.path"));
        Assert.Equal("Licenzy", request.Source.Name);
        if (traceAllRequests)
        {
            // Licenzy's span of the webhook sits inside ASP.NET Core's span of the request.
            var server = await SpanAsync(s => s.SpanId == request.ParentSpanId);
            Assert.Equal((ActivityKind.Server, "Microsoft.AspNetCore"), (server.Kind, server.Source.Name));
        }
        else
        {
            Assert.Equal(ActivityKind.Server, request.Kind);
            Assert.DoesNotContain(_app.Spans.Snapshot(), s => s.Source.Name == "Microsoft.AspNetCore");
        }
        Assert.Equal(request.TraceId, apply.TraceId);

        // The ingest's log line of that event carries the same trace.
        Assert.Contains(_app.Logs.Snapshot(), log => log.TraceId == request.TraceId && log.Text.Contains("Received Stripe event", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_count_checks_consumes_events_dead_letters_and_the_lag_by_stable_names()
    {
        var tenant = await TestTenant.CreateAsync(_app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        // An event that reaches Licenzy 5 s after Stripe made it.
        var session = await tenant.StartCheckoutAsync("user_2", TestTenant.Subscription);
        var late = StripeEvents.CheckoutSession("checkout.session.completed", tenant.NextEventId(), _app.Clock.GetUtcNow(), session, "paid");
        _app.Clock.Advance(TimeSpan.FromSeconds(5));
        await tenant.DeliverAsync(late);
        Assert.Equal(HttpStatusCode.OK, (await tenant.SendWebhookAsync(late)).StatusCode);
        // One that can never be applied: a dead letter.
        var orphan = tenant.NextEventId();
        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.created", orphan, _app.Clock.GetUtcNow(), "sub_orphan", "active",
            new Dictionary<string, string> { ["licenzy_subject"] = "user_3" }, _app.Clock.GetUtcNow(), _app.Clock.GetUtcNow().AddDays(30)));
        await _app.Deliveries.WaitAsync(Topics.BillingEventsDeadLetter, orphan);

        Assert.True(await tenant.IsAllowedAsync("user_1"));
        Assert.True(await tenant.IsAllowedAsync("user_2"));
        Assert.False(await tenant.IsAllowedAsync("nobody"));
        Assert.Equal(HttpStatusCode.OK, (await ConsumeAsync(tenant, 30, "k1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ConsumeAsync(tenant, 30, "k1")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await ConsumeAsync(tenant, 30, "k2")).StatusCode);

        var metrics = _app.CollectMetrics();
        Assert.Equal(2, Sum(metrics["licenzy.access.checks"], ("result", "allowed")));
        Assert.Equal(1, Sum(metrics["licenzy.access.checks"], ("result", "denied")));
        Assert.Equal(1, Sum(metrics["licenzy.usage.consumes"], ("result", "consumed")));
        Assert.Equal(1, Sum(metrics["licenzy.usage.consumes"], ("result", "replayed")));
        Assert.Equal(1, Sum(metrics["licenzy.usage.consumes"], ("result", "insufficient_usage")));
        Assert.Equal(2, Sum(metrics["licenzy.stripe.webhooks"], ("type", "checkout.session.completed"), ("outcome", "queued")));
        Assert.Equal(1, Sum(metrics["licenzy.stripe.webhooks"], ("type", "checkout.session.completed"), ("outcome", "duplicate")));
        Assert.Equal(2, Sum(metrics["licenzy.stripe.events"], ("type", "checkout.session.completed"), ("outcome", "applied")));
        Assert.Equal(1, Sum(metrics["licenzy.stripe.events"], ("type", "customer.subscription.created"), ("outcome", "dead_lettered")));
        Assert.Equal(1, Sum(metrics["licenzy.stripe.dead_letters"], ("type", "customer.subscription.created")));

        var lag = Assert.Single(metrics["licenzy.stripe.event.lag"].MetricPoints);
        Assert.Equal(2, lag.GetHistogramCount());
        Assert.Equal(5.0, lag.GetHistogramSum(), precision: 3);
        if (onDapr)
        {
            Assert.DoesNotContain("licenzy.outbox.depth", metrics.Keys); // the broker's to tell
            return;
        }
        var depth = Assert.Single(metrics["licenzy.outbox.depth"].MetricPoints);
        Assert.Equal(0, depth.GetGaugeLastValueLong());
    }

    private static Task<HttpResponseMessage> ConsumeAsync(TestTenant tenant, long units, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/usage/consume") { Content = JsonContent.Create(new { subject_ref = "user_1", units }) };
        request.Headers.Add("Idempotency-Key", key);
        return tenant.Runtime.SendAsync(request);
    }

    private static long Sum(MetricSnapshot metric, params (string Key, string Value)[] tags)
    {
        long sum = 0;
        foreach (var point in metric.MetricPoints)
        {
            var pointTags = new Dictionary<string, object?>();
            foreach (var tag in point.Tags) pointTags[tag.Key] = tag.Value;
            if (tags.All(t => Equals(pointTags.GetValueOrDefault(t.Key), t.Value))) sum += point.GetSumLong();
        }
        return sum;
    }

    /// <summary>A span ends after the delivery that made it is observed: wait for it, within a bound.</summary>
    private async Task<Activity> SpanAsync(Func<Activity, bool> match)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (_app.Spans.Snapshot().FirstOrDefault(match) is { } span) return span;
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), "the span did not end within 10 s; the spans:\n"
                + string.Join("\n", _app.Spans.Snapshot().Select(s => $"{s.TraceId} {s.SpanId} <- {s.ParentSpanId} {s.Kind} {s.Source.Name} {s.DisplayName}")));
            await Task.Delay(20);
        }
    }
}

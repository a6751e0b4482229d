using System.Diagnostics.Metrics;

namespace Licenzy.Infrastructure.Telemetry;

/// <summary>How many messages wait in the outbox now; registered by the binding that can tell (embedded).</summary>
public interface IOutboxDepth
{
    /// <summary>The count now, or null when it cannot be read (then no value is reported this time).</summary>
    long? Read();
}

/// <summary>
/// Licenzy's instruments, under meter <see cref="LicenzyTelemetry.Name"/>. The names and tags are
/// stable: dashboards and alerts may rely on them (docs/telemetry.md lists them). Tags have few
/// values each: no tenant, subject or event id, which would make a series per customer.
/// </summary>
public sealed class LicenzyMetrics
{
    private readonly Counter<long> _accessChecks;
    private readonly Counter<long> _consumes;
    private readonly Counter<long> _stripeWebhooks;
    private readonly Counter<long> _stripeEvents;
    private readonly Histogram<double> _stripeEventLag;
    private readonly Counter<long> _deadLetters;
    private readonly Counter<long> _outboundDeliveries;

    public LicenzyMetrics(IMeterFactory meters, IEnumerable<IOutboxDepth> outboxDepth)
    {
        var meter = meters.Create(LicenzyTelemetry.Name);
        _accessChecks = meter.CreateCounter<long>("licenzy.access.checks", "{check}",
            "Access checks answered (POST /v1/access/check), by result: allowed, denied.");
        _consumes = meter.CreateCounter<long>("licenzy.usage.consumes", "{consume}",
            "Usage consumes answered, by result: consumed, insufficient_usage, replayed.");
        _stripeWebhooks = meter.CreateCounter<long>("licenzy.stripe.webhooks", "{request}",
            "Stripe webhook requests at the ingest route, by type and outcome: queued, duplicate, refused.");
        _stripeEvents = meter.CreateCounter<long>("licenzy.stripe.events", "{event}",
            "Verified Stripe events taken from the topic, by type and outcome: applied, ignored, waiting, dead_lettered.");
        _stripeEventLag = meter.CreateHistogram<double>("licenzy.stripe.event.lag", "s",
            "From a Stripe event's created time to its change applied to the subject.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 86400] });
        _deadLetters = meter.CreateCounter<long>("licenzy.stripe.dead_letters", "{event}",
            "Stripe events given up on and kept as dead letters for operators.");
        _outboundDeliveries = meter.CreateCounter<long>("licenzy.webhooks.deliveries", "{attempt}",
            "Attempts to deliver an event to a tenant's webhook endpoint, by outcome: delivered, retrying, failed.");
        foreach (var depth in outboxDepth.Take(1))
            meter.CreateObservableGauge("licenzy.outbox.depth",
                () => depth.Read() is { } count ? [new Measurement<long>(count)] : Array.Empty<Measurement<long>>(), "{message}",
                "Messages published and not yet taken by their subscriber (embedded components).");
    }

    public void AccessChecked(bool allowed) => _accessChecks.Add(1, new KeyValuePair<string, object?>("result", allowed ? "allowed" : "denied"));

    public void Consumed(string result) => _consumes.Add(1, new KeyValuePair<string, object?>("result", result));

    public void StripeWebhook(string? type, string outcome) =>
        _stripeWebhooks.Add(1, new KeyValuePair<string, object?>("type", type ?? "unknown"), new KeyValuePair<string, object?>("outcome", outcome));

    public void StripeEvent(string type, string outcome) =>
        _stripeEvents.Add(1, new KeyValuePair<string, object?>("type", type), new KeyValuePair<string, object?>("outcome", outcome));

    public void StripeEventApplied(string type, TimeSpan lag) =>
        _stripeEventLag.Record(Math.Max(0, lag.TotalSeconds), new KeyValuePair<string, object?>("type", type));

    public void DeadLettered(string type) => _deadLetters.Add(1, new KeyValuePair<string, object?>("type", type));

    public void OutboundDelivery(string outcome) => _outboundDeliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}

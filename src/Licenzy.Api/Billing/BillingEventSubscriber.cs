using System.Diagnostics;
using Licenzy.Infrastructure.Telemetry;
using Licenzy.Api.Subjects;
using Licenzy.Domain.Billing;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.Actors;
using Licenzy.Infrastructure.PubSub;
using Licenzy.Stripe;

namespace Licenzy.Api.Billing;

/// <summary>
/// Applies each verified Stripe event from the billing-events topic to its subject, through the
/// subject's actor. What can never be applied (unreadable content, unknown product, invalid
/// subject) goes to the dead letter at once with a reason; a purchase Licenzy did not start is
/// acknowledged and ignored; only what may pass later (a payment not seen yet, a store that is
/// down) is retried by the pub/sub binding.
/// </summary>
public sealed class BillingEventSubscriber(
    StripeEventTranslator translator, IActorProxies actors, LicenzyMetrics metrics, TimeProvider clock, ILogger<BillingEventSubscriber> log) : ISubscriber
{
    public string Topic => Topics.BillingEvents;

    public string? DeadLetterTopic => Topics.BillingEventsDeadLetter;

    public async Task<DeliveryResult> HandleAsync(Message message, CancellationToken cancellationToken)
    {
        ReceivedBillingEvent? received;
        try
        {
            received = System.Text.Json.JsonSerializer.Deserialize<ReceivedBillingEvent>(message.Data, LicenzyJson.Options);
        }
        catch (System.Text.Json.JsonException e)
        {
            metrics.StripeEvent("unknown", "dead_lettered");
            return DeliveryResult.Drop($"the event cannot be read: {e.Message}");
        }
        return received is null ? DeliveryResult.Drop("the message is empty") : await ApplyAsync(received, cancellationToken);
    }

    /// <summary>Applies one received event: what the topic delivers, and what an operator retries from the dead letters.</summary>
    public async Task<DeliveryResult> ApplyAsync(ReceivedBillingEvent received, CancellationToken cancellationToken)
    {
        Translation translation;
        try
        {
            Activity.Current?.SetTag("licenzy.stripe.event_type", received.Type);
            // Signed by Stripe yet unreadable (an unpaired surrogate escape, a member twice): no retry mends that.
            if (MalformedContent(received.Payload) is { } problem)
            {
                metrics.StripeEvent(received.Type, "dead_lettered");
                return DeliveryResult.Drop($"the event's content is malformed: {problem}");
            }
            translation = await translator.TranslateAsync(received, cancellationToken);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or StripePayloadException)
        {
            metrics.StripeEvent("unknown", "dead_lettered");
            return DeliveryResult.Drop($"the event cannot be read: {e.Message}");
        }

        switch (translation)
        {
            case Translation.Ignored ignored:
                log.LogDebug("Ignored Stripe event {EventId}: {Why}", received.EventId, ignored.Why);
                metrics.StripeEvent(received.Type, "ignored");
                return DeliveryResult.Success;
            case Translation.NotYet notYet:
                log.LogInformation("Stripe event {EventId} ({EventType}) for tenant {TenantId} waits: {Reason}",
                    received.EventId, received.Type, received.TenantId, notYet.Reason);
                metrics.StripeEvent(received.Type, "waiting");
                return DeliveryResult.Retry(notYet.Reason);
            case Translation.Unattributable unattributable:
                log.LogWarning("Stripe event {EventId} ({EventType}) for tenant {TenantId} cannot be applied: {Reason}",
                    received.EventId, received.Type, received.TenantId, unattributable.Reason);
                metrics.StripeEvent(received.Type, "dead_lettered");
                return DeliveryResult.Drop(unattributable.Reason);
            case Translation.ForSubject forSubject:
                using (var span = LicenzyTelemetry.Source.StartActivity("SubjectActor apply"))
                {
                    span?.SetTag("licenzy.stripe.event_type", received.Type);
                    var applied = await SubjectActor.For(actors, forSubject.Subject).ApplyAsync(new ApplyBillingEvent(forSubject.Event, received.Type), cancellationToken);
                    span?.SetTag("licenzy.subject.changed", applied.Changed);
                    span?.SetTag("licenzy.subject.version", applied.Version);
                }
                metrics.StripeEvent(received.Type, "applied");
                metrics.StripeEventApplied(received.Type, clock.GetUtcNow() - forSubject.Event.OccurredAt);
                return DeliveryResult.Success;
            default:
                throw new InvalidOperationException($"unexpected translation {translation.GetType().Name}");
        }
    }

    private static string? MalformedContent(string payload)
    {
        using var document = JsonRules.Parse(new System.Buffers.ReadOnlySequence<byte>(System.Text.Encoding.UTF8.GetBytes(payload)),
            out var problem, JsonRules.StripeEventMaxDepth);
        return problem?.Text;
    }
}

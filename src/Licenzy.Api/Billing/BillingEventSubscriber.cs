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
public sealed class BillingEventSubscriber(StripeEventTranslator translator, IActorProxies actors, ILogger<BillingEventSubscriber> log) : ISubscriber
{
    public string Topic => Topics.BillingEvents;

    public string? DeadLetterTopic => Topics.BillingEventsDeadLetter;

    public async Task<DeliveryResult> HandleAsync(Message message, CancellationToken cancellationToken)
    {
        ReceivedBillingEvent? received;
        Translation translation;
        try
        {
            received = System.Text.Json.JsonSerializer.Deserialize<ReceivedBillingEvent>(message.Data, LicenzyJson.Options);
            if (received is null) return DeliveryResult.Drop("the message is empty");
            // Signed by Stripe yet unreadable (an unpaired surrogate escape, a member twice): no retry mends that.
            if (MalformedContent(received.Payload) is { } problem) return DeliveryResult.Drop($"the event's content is malformed: {problem}");
            translation = await translator.TranslateAsync(received, cancellationToken);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or StripePayloadException)
        {
            return DeliveryResult.Drop($"the event cannot be read: {e.Message}");
        }

        switch (translation)
        {
            case Translation.Ignored ignored:
                log.LogDebug("Ignored Stripe event {EventId}: {Why}", received.EventId, ignored.Why);
                return DeliveryResult.Success;
            case Translation.NotYet notYet:
                log.LogInformation("Stripe event {EventId} ({EventType}) for tenant {TenantId} waits: {Reason}",
                    received.EventId, received.Type, received.TenantId, notYet.Reason);
                return DeliveryResult.Retry(notYet.Reason);
            case Translation.Unattributable unattributable:
                log.LogWarning("Stripe event {EventId} ({EventType}) for tenant {TenantId} cannot be applied: {Reason}",
                    received.EventId, received.Type, received.TenantId, unattributable.Reason);
                return DeliveryResult.Drop(unattributable.Reason);
            case Translation.ForSubject forSubject:
                await SubjectActor.For(actors, forSubject.Subject).ApplyAsync(new ApplyBillingEvent(forSubject.Event, received.Type), cancellationToken);
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

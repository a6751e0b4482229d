using Licenzy.Infrastructure.Telemetry;
using System.Text.Json;
using Licenzy.Domain;
using Licenzy.Domain.Billing;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.PubSub;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Billing;

public sealed record DeadLetter(string EventId, string Type, DateTimeOffset ReceivedAt, string Reason);

public sealed record DeadLetterList(List<DeadLetter> Events);

/// <summary>Verified events that could not be applied, kept per tenant and mode for operators to see.</summary>
public sealed class DeadLetters(IStateStoreFactory stores)
{
    /// <summary>The newest this many are kept; an operator who needs more has the logs.</summary>
    public const int Kept = 1000;

    private readonly IStateStore _state = stores.Get(Components.StateStore);

    public async Task<DeadLetterList> ListAsync(string tenantId, Mode mode, CancellationToken ct) =>
        (await _state.GetAsync<DeadLetterList>(StateKeys.DeadLetters(tenantId, mode), ct))?.Value ?? new DeadLetterList([]);

    public async Task RecordAsync(string tenantId, Mode mode, DeadLetter letter, CancellationToken ct)
    {
        var key = StateKeys.DeadLetters(tenantId, mode);
        while (true)
        {
            var current = await _state.GetAsync<DeadLetterList>(key, ct);
            var events = current?.Value.Events ?? [];
            if (events.Any(e => e.EventId == letter.EventId)) return;
            var kept = events.Append(letter).TakeLast(Kept).ToList();
            if (await _state.TrySaveAsync(key, new DeadLetterList(kept), current?.ETag, ct)) return;
        }
    }
}

/// <summary>Records what the billing-events subscriber gave up on, so operators can see it.</summary>
public sealed class DeadLetterSubscriber(DeadLetters deadLetters, LicenzyMetrics metrics, ILogger<DeadLetterSubscriber> log) : ISubscriber
{
    public string Topic => Topics.BillingEventsDeadLetter;

    public string? DeadLetterTopic => null;

    public async Task<DeliveryResult> HandleAsync(Message message, CancellationToken cancellationToken)
    {
        var received = JsonSerializer.Deserialize<ReceivedBillingEvent>(message.Data, LicenzyJson.Options);
        if (received is null) return DeliveryResult.Drop("the dead letter is empty");
        var reason = message.DeadLetterReason ?? "undeliverable";
        await deadLetters.RecordAsync(received.TenantId, received.Mode,
            new DeadLetter(received.EventId, received.Type, received.ReceivedAt, reason), cancellationToken);
        metrics.DeadLettered(received.Type);
        log.LogWarning("Dead letter for tenant {TenantId} ({Mode}): event {EventId} ({EventType}): {Reason}",
            received.TenantId, received.Mode, received.EventId, received.Type, reason);
        return DeliveryResult.Success;
    }
}

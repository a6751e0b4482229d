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

/// <summary>
/// Verified events that could not be applied, kept per tenant and mode for operators to see and
/// retry: the list, and beside it each event as received.
/// </summary>
public sealed class DeadLetters(IStateStoreFactory stores)
{
    /// <summary>The newest this many are kept; an operator who needs more has the logs.</summary>
    public const int Kept = 1000;

    private readonly IStateStore _state = stores.Get(Components.StateStore);

    public async Task<DeadLetterList> ListAsync(string tenantId, Mode mode, CancellationToken ct) =>
        (await _state.GetAsync<DeadLetterList>(StateKeys.DeadLetters(tenantId, mode), ct))?.Value ?? new DeadLetterList([]);

    /// <summary>
    /// Lists the event with its reason (a listed one keeps its place and takes the new reason) and
    /// keeps it as received, in one transaction.
    /// </summary>
    public async Task RecordAsync(ReceivedBillingEvent received, string reason, CancellationToken ct)
    {
        var key = StateKeys.DeadLetters(received.TenantId, received.Mode);
        var letter = new DeadLetter(received.EventId, received.Type, received.ReceivedAt, reason);
        while (true)
        {
            var current = await _state.GetAsync<DeadLetterList>(key, ct);
            var events = current?.Value.Events ?? [];
            var index = events.FindIndex(e => e.EventId == letter.EventId);
            if (index >= 0 && events[index] == letter) return;
            var all = index >= 0 ? events.Select((e, i) => i == index ? letter : e).ToList() : [.. events, letter];
            var kept = all.TakeLast(Kept).ToList();
            List<StateOperation> operations =
            [
                new StateOperation.Upsert(key, new DeadLetterList(kept), current?.ETag, MustNotExist: current is null),
                new StateOperation.Upsert(StateKeys.DeadLetterEvent(received.TenantId, received.Mode, received.EventId), received),
            ];
            operations.AddRange(all.SkipLast(Kept).Select(e => new StateOperation.Delete(StateKeys.DeadLetterEvent(received.TenantId, received.Mode, e.EventId))));
            if (await _state.TryTransactAsync(operations, ct)) return;
        }
    }

    /// <summary>A listed event as received; null when it is not listed, or was listed before events were kept beside the list.</summary>
    public async Task<(DeadLetter? Letter, ReceivedBillingEvent? Received)> FindAsync(string tenantId, Mode mode, string eventId, CancellationToken ct)
    {
        var letter = (await ListAsync(tenantId, mode, ct)).Events.Find(e => e.EventId == eventId);
        if (letter is null) return (null, null);
        var received = await _state.GetAsync<ReceivedBillingEvent>(StateKeys.DeadLetterEvent(tenantId, mode, eventId), ct);
        return (letter, received?.Value);
    }

    /// <summary>Takes an applied event off the list, with its kept copy.</summary>
    public async Task RemoveAsync(string tenantId, Mode mode, string eventId, CancellationToken ct)
    {
        var key = StateKeys.DeadLetters(tenantId, mode);
        while (true)
        {
            var current = await _state.GetAsync<DeadLetterList>(key, ct);
            if (current is null || !current.Value.Events.Any(e => e.EventId == eventId)) return;
            var written = await _state.TryTransactAsync(
            [
                new StateOperation.Upsert(key, new DeadLetterList([.. current.Value.Events.Where(e => e.EventId != eventId)]), current.ETag),
                new StateOperation.Delete(StateKeys.DeadLetterEvent(tenantId, mode, eventId)),
            ], ct);
            if (written) return;
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
        await deadLetters.RecordAsync(received, reason, cancellationToken);
        metrics.DeadLettered(received.Type);
        log.LogWarning("Dead letter for tenant {TenantId} ({Mode}): event {EventId} ({EventType}): {Reason}",
            received.TenantId, received.Mode, received.EventId, received.Type, reason);
        return DeliveryResult.Success;
    }
}

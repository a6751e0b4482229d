using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Microsoft.Extensions.Options;

namespace Licenzy.Api.Webhooks;

/// <summary>
/// The delivery records in the state store: made from a committed message (one per subscribed
/// endpoint, in one transaction that also removes the message), changed by each attempt and by a
/// manual retry, listed through the tenant's delivery log.
/// </summary>
public sealed class WebhookDeliveries(IStateStoreFactory stores, WebhookEndpoints endpoints, TimeProvider clock,
    IOptionsMonitor<WebhookOptions> options, OutboundReminders reminders)
{
    /// <summary>How long a delivery record is kept after its last change; longer than any retry schedule the options allow.</summary>
    public static readonly TimeSpan RecordLifetime = TimeSpan.FromDays(45);

    private readonly IStateStore _state = stores.Get(Components.StateStore);

    /// <summary>
    /// Turns the stored message into its deliveries, due now, and removes it; nothing when it is
    /// gone already (fanned out before). Deliveries are named by message and endpoint, so a repeat
    /// cannot make a second one.
    /// </summary>
    public async Task<IReadOnlyList<ScheduledDelivery>> FanOutAsync(string messageKey, CancellationToken ct)
    {
        while (true)
        {
            var stored = await _state.GetAsync<OutboundMessage>(messageKey, ct);
            if (stored is null) return [];
            var message = stored.Value;
            var now = clock.GetUtcNow();
            // A notice about a later instant (a grace period's end) is first tried then.
            var due = message.NotBefore is { } notBefore && notBefore > now ? notBefore : now;
            var deliveries = (await endpoints.ListAsync(message.TenantId, message.Mode, ct))
                .Where(endpoint => endpoint.Wants(message.Type))
                .Select(endpoint => new WebhookDelivery(DeliveryId(message.Id, endpoint.Id), endpoint.Id, message, WebhookDeliveryStatus.Pending,
                    0, 0, null, null, due, now))
                .ToList();

            var writes = new List<StateOperation> { new StateOperation.Delete(messageKey, stored.ETag) };
            if (deliveries.Count > 0)
            {
                var logKey = StateKeys.WebhookDeliveryLog(message.TenantId, message.Mode);
                var log = await _state.GetAsync<WebhookDeliveryLog>(logKey, ct);
                writes.Add(new StateOperation.Upsert(logKey, (log?.Value ?? WebhookDeliveryLog.Empty).With(deliveries.Select(d => d.Id)),
                    log?.ETag, MustNotExist: log is null));
                writes.AddRange(deliveries.Select(d => new StateOperation.Upsert(d.StateKey, d, MustNotExist: true, TimeToLive: RecordLifetime)));
                // A delivery made by a transaction that loses its race has the winner's key: its reminder serves either.
                await reminders.BeforeDueAsync(deliveries.Select(d => (d.StateKey, due)), ct);
            }
            if (await _state.TryTransactAsync(writes, ct))
                return deliveries.Select(d => new ScheduledDelivery(d.StateKey, d.EndpointId, due)).ToList();
        }
    }

    public Task<StateEntry<WebhookDelivery>?> GetAsync(string deliveryKey, CancellationToken ct) =>
        _state.GetAsync<WebhookDelivery>(deliveryKey, ct);

    /// <summary>The tenant's deliveries for the mode, newest first, optionally only those in one status.</summary>
    public async Task<IReadOnlyList<WebhookDeliveryView>> ListAsync(string tenantId, Mode mode, WebhookDeliveryStatus? status,
        CancellationToken ct)
    {
        var log = await _state.GetAsync<WebhookDeliveryLog>(StateKeys.WebhookDeliveryLog(tenantId, mode), ct);
        var views = new List<WebhookDeliveryView>();
        foreach (var id in (log?.Value.DeliveryIds ?? []).Reverse())
        {
            var delivery = await _state.GetAsync<WebhookDelivery>(StateKeys.WebhookDelivery(tenantId, mode, id), ct);
            if (delivery is not null && (status is null || delivery.Value.Status == status)) views.Add(WebhookDeliveryView.Of(delivery.Value));
        }
        return views;
    }

    /// <summary>
    /// Makes the delivery pending and due now, its retry schedule started again; null when there is
    /// no such delivery. A delivered one is sent again: that is what the operator asked for.
    /// </summary>
    public async Task<WebhookDelivery?> RetryAsync(string tenantId, Mode mode, string deliveryId, CancellationToken ct)
    {
        var key = StateKeys.WebhookDelivery(tenantId, mode, deliveryId);
        while (true)
        {
            var stored = await _state.GetAsync<WebhookDelivery>(key, ct);
            if (stored is null) return null;
            var retried = stored.Value with { Status = WebhookDeliveryStatus.Pending, RoundAttempts = 0, NextAttemptAt = clock.GetUtcNow() };
            await reminders.BeforeDueAsync(key, retried.NextAttemptAt.Value, ct);
            if (await TrySaveAsync(retried, stored.ETag, ct)) return retried;
        }
    }

    /// <summary>
    /// Records an attempt's outcome: delivered, or due again after the schedule's next delay (with
    /// up to a fifth more, so that retries of many deliveries spread out), or failed after the last.
    /// False when the record changed meanwhile (a manual retry): that change stands.
    /// </summary>
    public async Task<bool> TryRecordAsync(StateEntry<WebhookDelivery> attempted, AttemptOutcome outcome, CancellationToken ct)
    {
        var delivery = attempted.Value;
        var now = clock.GetUtcNow();
        var round = delivery.RoundAttempts + 1;
        var schedule = options.CurrentValue.EffectiveRetrySchedule;
        var (status, next) = outcome.Delivered
            ? (WebhookDeliveryStatus.Delivered, (DateTimeOffset?)null)
            : round <= schedule.Count
                ? (WebhookDeliveryStatus.Pending, now + Jittered(schedule[round - 1]))
                : (WebhookDeliveryStatus.Failed, null);
        var recorded = delivery with
        {
            Status = status, Attempts = delivery.Attempts + 1, RoundAttempts = round, LastStatusCode = outcome.StatusCode,
            LastError = outcome.Error, NextAttemptAt = next,
        };
        if (next is { } due) await reminders.BeforeDueAsync(recorded.StateKey, due, ct);
        var saved = await TrySaveAsync(recorded, attempted.ETag, ct);
        if (saved && next is null) await reminders.DoneAsync(recorded.StateKey, OutboundReminders.Attempt);
        return saved;
    }

    /// <summary>The delivery with its message replaced (a notice rendered when due); null when the record changed meanwhile.</summary>
    public async Task<StateEntry<WebhookDelivery>?> TryReplaceMessageAsync(StateEntry<WebhookDelivery> stored, OutboundMessage message,
        CancellationToken ct) =>
        await TrySaveAsync(stored.Value with { Message = message }, stored.ETag, ct) ? await GetAsync(stored.Key, ct) : null;

    /// <summary>Removes a notice its subject outran (it changed before the notice was due); the log no longer lists it.</summary>
    public async Task<bool> TryWithdrawAsync(StateEntry<WebhookDelivery> notice, CancellationToken ct)
    {
        var deleted = await _state.TryDeleteAsync(notice.Key, notice.ETag, ct);
        if (deleted) await reminders.DoneAsync(notice.Key, OutboundReminders.Attempt);
        return deleted;
    }

    /// <summary>Fails a delivery whose endpoint was deleted: there is nowhere left to send it.</summary>
    public async Task<bool> TryFailAsync(StateEntry<WebhookDelivery> attempted, string error, CancellationToken ct)
    {
        var saved = await TrySaveAsync(attempted.Value with { Status = WebhookDeliveryStatus.Failed, LastError = error, NextAttemptAt = null },
            attempted.ETag, ct);
        if (saved) await reminders.DoneAsync(attempted.Key, OutboundReminders.Attempt);
        return saved;
    }

    /// <summary>Every pending delivery in the store, for a dispatcher starting up; only a store that can be scanned can tell.</summary>
    public async IAsyncEnumerable<ScheduledDelivery> PendingAsync([EnumeratorCancellation] CancellationToken ct)
    {
        if (_state is not IStateScanner scanner) yield break;
        await foreach (var page in scanner.ScanAsync(StateKeys.WebhookDeliveryPrefix, 500, ct))
            foreach (var (key, json) in page)
            {
                var delivery = JsonSerializer.Deserialize<WebhookDelivery>(json, LicenzyJson.Options)!;
                if (delivery is { Status: WebhookDeliveryStatus.Pending, NextAttemptAt: { } due })
                    yield return new ScheduledDelivery(key, delivery.EndpointId, due);
            }
    }

    /// <summary>The keys of messages committed but not yet fanned out; only a store that can be scanned can tell.</summary>
    public async IAsyncEnumerable<string> UnsentMessageKeysAsync([EnumeratorCancellation] CancellationToken ct)
    {
        if (_state is not IStateScanner scanner) yield break;
        await foreach (var page in scanner.ScanAsync(StateKeys.OutboundMessagePrefix, 500, ct))
            foreach (var (key, _) in page) yield return key;
    }

    public bool CanScan => _state is IStateScanner;

    private Task<bool> TrySaveAsync(WebhookDelivery delivery, string etag, CancellationToken ct) =>
        _state.TryTransactAsync([new StateOperation.Upsert(delivery.StateKey, delivery, etag, TimeToLive: RecordLifetime)], ct);

    private static TimeSpan Jittered(TimeSpan delay) => delay * (1 + Random.Shared.NextDouble() * 0.2);

    /// <summary>Named by message and endpoint, so that fanning a message out twice finds the first delivery.</summary>
    private static string DeliveryId(string messageId, string endpointId) =>
        "dlv_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{messageId}|{endpointId}")))[..24];
}

/// <summary>What one attempt came to: a 2xx delivers; anything else is a failure with its status or error.</summary>
public sealed record AttemptOutcome(bool Delivered, int? StatusCode, string? Error);

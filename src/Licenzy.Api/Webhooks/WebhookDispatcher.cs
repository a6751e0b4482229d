using Licenzy.Infrastructure.Telemetry;
using System.Threading.Channels;

namespace Licenzy.Api.Webhooks;

/// <summary>
/// Sends the deliveries when they are due. Committed messages are fanned out into deliveries
/// (handed over by <see cref="OutboundMessages.Committed"/>, and found in the store at start and
/// on each look where the store can be scanned). Each attempt runs on its own, never awaited by
/// the loop, with at most <see cref="MaxInFlightPerEndpoint"/> at a time per endpoint and
/// <see cref="MaxInFlight"/> in all: an endpoint that hangs holds up only its own deliveries.
/// Due times follow the app's <see cref="TimeProvider"/>.
/// </summary>
public sealed partial class WebhookDispatcher(IServiceProvider services, TimeProvider clock, ILogger<WebhookDispatcher> log) : BackgroundService
{
    public const int MaxInFlightPerEndpoint = 4;
    public const int MaxInFlight = 512;

    /// <summary>How often the store is looked at for messages no one handed over (another process, or before a crash).</summary>
    public static readonly TimeSpan LookInterval = TimeSpan.FromSeconds(5);

    private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly object _gate = new();
    private readonly Dictionary<string, ScheduledDelivery> _due = new(StringComparer.Ordinal);
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);
    private readonly HashSet<Task> _attempts = [];
    private readonly Dictionary<string, int> _inFlightPerEndpoint = new(StringComparer.Ordinal);

    // Resolved late: the deliveries need the endpoints, which need Data Protection, none of which a constructor should wait on.
    private WebhookDeliveries Deliveries => services.GetRequiredService<WebhookDeliveries>();
    private WebhookEndpoints Endpoints => services.GetRequiredService<WebhookEndpoints>();
    private WebhookSender Sender => services.GetRequiredService<WebhookSender>();
    private OutboundReminders Reminders => services.GetRequiredService<OutboundReminders>();

    /// <summary>A committed message to fan out now.</summary>
    public void FanOut(string messageKey)
    {
        _messages.Writer.TryWrite(messageKey);
        Wake();
    }

    /// <summary>A delivery due at <see cref="ScheduledDelivery.Due"/> (a manual retry, a fan-out).</summary>
    public void Schedule(ScheduledDelivery delivery)
    {
        lock (_gate) _due[delivery.StateKey] = delivery;
        Wake();
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>
    /// A reminder found a message that may not have been handed over (its process died after the
    /// commit): fans it out here. True when the message is gone now, fanned out here or before.
    /// </summary>
    public async Task<bool> TakeUpMessageAsync(string messageKey, CancellationToken ct)
    {
        foreach (var delivery in await Deliveries.FanOutAsync(messageKey, ct)) Schedule(delivery);
        return true;
    }

    /// <summary>
    /// A reminder came for a delivery that may be held by no live process: one due is attempted
    /// here, one due later gets its reminder moved to then. True when nothing is left to do.
    /// </summary>
    public async Task<bool> TakeUpDeliveryAsync(string deliveryKey, CancellationToken ct)
    {
        var stored = await Deliveries.GetAsync(deliveryKey, ct);
        if (stored?.Value is not { Status: WebhookDeliveryStatus.Pending, NextAttemptAt: { } due } delivery) return true;
        if (due > clock.GetUtcNow())
            await Reminders.BeforeDueAsync(deliveryKey, due, ct);
        else
            Schedule(new ScheduledDelivery(deliveryKey, delivery.EndpointId, due));
        return false;
    }

    private CancellationToken _stopping;

    /// <summary>
    /// Stops the loop, then waits for the attempts under way (stopping cancels their requests), so
    /// that none writes to the store after the app has stopped.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        Task[] running;
        lock (_gate) running = [.. _attempts];
        await Task.WhenAll(running).WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        await Task.Yield();
        try
        {
            await foreach (var pending in Deliveries.PendingAsync(stoppingToken)) Schedule(pending);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogLookFailed(log, e);
        }
        var lastLook = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (clock.GetUtcNow() - lastLook >= LookInterval)
                {
                    lastLook = clock.GetUtcNow();
                    await foreach (var key in Deliveries.UnsentMessageKeysAsync(stoppingToken)) _messages.Writer.TryWrite(key);
                }
                await FanOutHandedOverAsync(stoppingToken);
                StartDue();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The store may be down for a moment: the next look tries again.
                LogLookFailed(log, e);
            }
            await WaitAsync(lastLook + LookInterval, stoppingToken);
        }
    }

    /// <summary>Fans out every message handed over; one that fails (the store is down) is kept for the next round.</summary>
    private async Task FanOutHandedOverAsync(CancellationToken stoppingToken)
    {
        var failed = new List<string>();
        while (_messages.Reader.TryRead(out var messageKey))
        {
            try
            {
                foreach (var delivery in await Deliveries.FanOutAsync(messageKey, stoppingToken)) Schedule(delivery);
                _ = Reminders.DoneAsync(messageKey, OutboundReminders.FanOut);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogLookFailed(log, e);
                failed.Add(messageKey);
            }
        }
        foreach (var messageKey in failed) _messages.Writer.TryWrite(messageKey);
    }

    /// <summary>Waits for a hand-over, a finished attempt, the next due time or the next look, whichever is first.</summary>
    private async Task WaitAsync(DateTimeOffset nextLook, CancellationToken stoppingToken)
    {
        var wakeAt = nextLook;
        lock (_gate)
        {
            // A delivery that waits for a free slot is started when an attempt ends, which wakes the loop.
            foreach (var scheduled in _due.Values)
                if (scheduled.Due < wakeAt && CanStart(scheduled)) wakeAt = scheduled.Due;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var wait = wakeAt - clock.GetUtcNow();
        var elapsed = Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, clock, timeout.Token);
        // The clock may have passed the wake time while the timer was made (a test's fake clock
        // jumps): such a timer would wait a whole further interval, so look again at once.
        if (clock.GetUtcNow() >= wakeAt)
        {
            await timeout.CancelAsync();
            return;
        }
        var woken = _wake.Reader.ReadAsync(timeout.Token).AsTask();
        await Task.WhenAny(woken, elapsed);
        await timeout.CancelAsync();
        stoppingToken.ThrowIfCancellationRequested();
    }

    private void StartDue()
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            foreach (var scheduled in _due.Values.Where(s => s.Due <= now).OrderBy(s => s.Due).ToList())
            {
                if (_inFlight.Count >= MaxInFlight) return;
                if (!CanStart(scheduled)) continue;
                _due.Remove(scheduled.StateKey);
                _inFlight.Add(scheduled.StateKey);
                _inFlightPerEndpoint[scheduled.EndpointId] = _inFlightPerEndpoint.GetValueOrDefault(scheduled.EndpointId) + 1;
                var attempt = Task.Run(() => AttemptAsync(scheduled));
                _attempts.Add(attempt);
                _ = attempt.ContinueWith(done => { lock (_gate) _attempts.Remove(done); }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>Whether an attempt of the delivery may start now: it is not running, and there is a slot for it. Called under the gate.</summary>
    private bool CanStart(ScheduledDelivery scheduled) =>
        _inFlight.Count < MaxInFlight
        && !_inFlight.Contains(scheduled.StateKey)
        && _inFlightPerEndpoint.GetValueOrDefault(scheduled.EndpointId) < MaxInFlightPerEndpoint;

    private async Task AttemptAsync(ScheduledDelivery scheduled)
    {
        try
        {
            var next = await AttemptOnceAsync(scheduled.StateKey);
            if (next is not null) lock (_gate) _due.TryAdd(next.StateKey, next);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The app is stopping: the record still says pending, and the next start takes it up.
        }
        catch (Exception e)
        {
            // Tried again at the next due time: the record still says pending.
            LogAttemptFailed(log, scheduled.StateKey, e);
            lock (_gate) _due.TryAdd(scheduled.StateKey, scheduled with { Due = clock.GetUtcNow() + LookInterval });
        }
        finally
        {
            lock (_gate)
            {
                _inFlight.Remove(scheduled.StateKey);
                if (--_inFlightPerEndpoint[scheduled.EndpointId] == 0) _inFlightPerEndpoint.Remove(scheduled.EndpointId);
            }
            Wake();
        }
    }

    /// <summary>One attempt if the delivery is still pending and due; what is due next, if anything.</summary>
    private async Task<ScheduledDelivery?> AttemptOnceAsync(string deliveryKey)
    {
        var ct = _stopping;
        var stored = await Deliveries.GetAsync(deliveryKey, ct);
        if (stored?.Value is not { Status: WebhookDeliveryStatus.Pending, NextAttemptAt: { } due } delivery) return null;
        if (due > clock.GetUtcNow()) return new ScheduledDelivery(deliveryKey, delivery.EndpointId, due);

        if (delivery is { Attempts: 0, Message: { NotBefore: not null, SubjectRef: not null } notice })
        {
            // A notice is told as the subject stands when it comes due, or not at all if a later change outran it.
            var current = await services.GetRequiredService<Subjects.SubjectNotices>().AsItStandsAsync(notice, ct);
            if (current is null)
            {
                await Deliveries.TryWithdrawAsync(stored, ct);
                return null;
            }
            stored = await Deliveries.TryReplaceMessageAsync(stored, current, ct);
            // Changed meanwhile (a manual retry): taken again from the record.
            if (stored is null) return new ScheduledDelivery(deliveryKey, delivery.EndpointId, clock.GetUtcNow());
            delivery = stored.Value;
        }

        var endpoint = await Endpoints.FindAsync(delivery.TenantId, delivery.Mode, delivery.EndpointId, ct);
        if (endpoint is null)
        {
            await Deliveries.TryFailAsync(stored, "the endpoint was deleted", ct);
            return null;
        }
        var outcome = await Sender.SendAsync(delivery, endpoint, Endpoints.SigningSecrets(endpoint), ct);
        await Deliveries.TryRecordAsync(stored, outcome, ct);
        // Whatever the record says now (this outcome, or a manual retry that overtook it) decides what is next.
        var now = await Deliveries.GetAsync(deliveryKey, ct);
        services.GetRequiredService<LicenzyMetrics>().OutboundDelivery(outcome.Delivered ? "delivered"
            : now?.Value is { Status: WebhookDeliveryStatus.Pending } ? "retrying" : "failed");
        return now?.Value is { Status: WebhookDeliveryStatus.Pending, NextAttemptAt: { } next }
            ? new ScheduledDelivery(deliveryKey, delivery.EndpointId, next)
            : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for outbound webhook work failed; looking again shortly")]
    private static partial void LogLookFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A webhook attempt for {DeliveryKey} failed inside Licenzy; it is tried again")]
    private static partial void LogAttemptFailed(ILogger logger, string deliveryKey, Exception exception);
}

using Licenzy.Infrastructure.Telemetry;
using System.Collections.Concurrent;
using System.Text.Json;
using Licenzy.Infrastructure.PubSub;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>
/// Delivers outbox messages to this process's subscribers, at least once. It claims due messages
/// under a lease (so another process on the same file, or a restarted one, never delivers them at
/// the same time), hands each to its subscriber in a scope of its own, and records the outcome:
/// delete, retry later with backoff, or dead-letter. A lease whose owner no longer runs (a process
/// killed mid-delivery) is taken back at once rather than when it runs out (<see cref="LeaseOwners"/>).
/// </summary>
internal sealed partial class OutboxDispatcher(
    OutboxQueue outbox,
    OutboxSignal signal,
    LeaseOwners owners,
    IServiceScopeFactory scopes,
    TimeProvider clock,
    IOptions<OutboxOptions> options,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    // Unique per dispatcher, so two hosts in one process hold separate leases too; held from start to stop.
    private LeaseOwner? _owner;
    private readonly ConcurrentDictionary<long, Task> _inFlight = new();
    private readonly OutboxOptions _options = options.Value;
    private SubscriberRoutes? _routes;
    private ITimer? _poll;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the host reports started, so a bad subscriber setup stops the app.
        _routes = await SubscriberRoutes.DiscoverAsync(scopes);
        if (_routes.Topics.Count > 0)
        {
            _owner = owners.Acquire();
            owners.Sweep(await outbox.LeaseOwnersAsync(cancellationToken));
            // Other processes on the file cannot signal us, and retries fall due with no signal at all.
            _poll = clock.CreateTimer(static state => ((OutboxSignal)state!).Notify(), signal,
                _options.PollInterval, _options.PollInterval);
            signal.Notify();
        }
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_poll is not null) await _poll.DisposeAsync();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var routes = _routes!;
        if (routes.Topics.Count == 0) return;
        LogStarted(routes.Topics.Count, string.Join(", ", routes.Topics));

        try
        {
            while (true)
            {
                await signal.WaitAsync(stoppingToken);
                await ClaimAndDeliverAsync(routes, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: claim nothing more.
        }

        // Let deliveries under way settle (or hand their message back) before the host goes;
        // only then may others take what is still leased to us.
        await Task.WhenAll(_inFlight.Values);
        _owner?.Dispose();
    }

    private async Task ClaimAndDeliverAsync(SubscriberRoutes routes, CancellationToken stoppingToken)
    {
        var free = _options.MaxConcurrentDeliveries - _inFlight.Count;
        if (free <= 0) return; // a finishing delivery signals again

        IReadOnlyList<ClaimedMessage> claimed;
        try
        {
            claimed = await outbox.ClaimAsync(_owner!.Id, routes.Topics, free, _options.LeaseDuration, stoppingToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            LogClaimFailed(exception);
            return; // the next tick tries again
        }

        foreach (var message in claimed)
        {
            var delivery = Task.Run(() => DeliverAsync(message, routes[message.Topic], stoppingToken), CancellationToken.None);
            _inFlight[message.Sequence] = delivery;
            _ = ForgetWhenDoneAsync(message.Sequence, delivery); // after the add, so the removal cannot come first
        }

        // A full batch suggests more is waiting.
        if (claimed.Count == free) signal.Notify();
    }

    /// <summary>Frees the delivery's slot once it has settled, and wakes the loop to fill it.</summary>
    private async Task ForgetWhenDoneAsync(long sequence, Task delivery)
    {
        await delivery; // never throws: DeliverAsync handles its own failures
        _inFlight.TryRemove(sequence, out _);
        signal.Notify();
    }

    private async Task DeliverAsync(ClaimedMessage message, SubscriberRoute route, CancellationToken stoppingToken)
    {
        try
        {
            if (message.Attempt > _options.MaxAttempts)
            {
                // Earlier claims never settled: the process died (or hung) each time it held this message.
                await DeadLetterAsync(message, route,
                    $"Abandoned: {message.Attempt - 1} deliveries began but never finished.");
                return;
            }

            using var span = LicenzyTelemetry.StartProcessing(message.Topic, message.MessageId, message.TraceParent);
            span?.SetTag("messaging.delivery.attempt", message.Attempt);
            DeliveryResult result;
            try
            {
                result = await HandleAsync(message, route, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                if (await outbox.ReleaseAsync(message)) LogReleased(message.MessageId, message.Topic);
                return;
            }
            catch (Exception exception)
            {
                LogSubscriberThrew(exception, route.SubscriberType.Name, message.MessageId, message.Attempt);
                result = DeliveryResult.Retry($"{exception.GetType().Name}: {exception.Message}");
            }

            if (result.Status != DeliveryStatus.Success) span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, result.Reason);
            await SettleAsync(message, route, result);
        }
        catch (Exception exception)
        {
            // The claim stays in place; once its lease runs out (or this process ends) the message is delivered again.
            LogSettleFailed(exception, message.MessageId, message.Topic);
        }
    }

    private async Task<DeliveryResult> HandleAsync(ClaimedMessage message, SubscriberRoute route,
        CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        // Found by topic among the registered subscribers, so a registration may wrap another.
        var subscriber = scope.ServiceProvider.GetServices<ISubscriber>().First(s => s.Topic == route.Topic);
        var data = JsonSerializer.Deserialize<JsonElement>(message.Data, LicenzyJson.Options);
        var delivered = new Message(message.MessageId, message.Topic, data, message.Attempt, message.DeadLetterReason);
        return await subscriber.HandleAsync(delivered, stoppingToken)
               ?? DeliveryResult.Retry($"{route.SubscriberType.Name} returned no result.");
    }

    private async Task SettleAsync(ClaimedMessage message, SubscriberRoute route, DeliveryResult result)
    {
        switch (result.Status)
        {
            case DeliveryStatus.Success:
                if (await outbox.CompleteAsync(message))
                    LogDelivered(message.MessageId, message.Topic, message.Attempt);
                else
                    LogLeaseLost(message.MessageId, message.Topic);
                break;

            case DeliveryStatus.Retry when message.Attempt >= _options.MaxAttempts:
                await DeadLetterAsync(message, route,
                    $"Gave up after {message.Attempt} attempts: {result.Reason ?? "retry requested"}");
                break;

            case DeliveryStatus.Retry:
                var nextAttemptAt = message.ClaimedAt + RetryBackoff.After(message.Attempt);
                var reason = result.Reason ?? "retry requested";
                if (await outbox.ScheduleRetryAsync(message, nextAttemptAt, reason))
                    LogRetryScheduled(message.MessageId, message.Topic, message.Attempt, nextAttemptAt, reason);
                else
                    LogLeaseLost(message.MessageId, message.Topic);
                break;

            default:
                await DeadLetterAsync(message, route, result.Reason ?? "dropped by the subscriber");
                break;
        }
    }

    private async Task DeadLetterAsync(ClaimedMessage message, SubscriberRoute route, string reason)
    {
        // A dead-letter topic's own failures go to the table, never round in a circle.
        var deadLetterTopic = route.DeadLetterTopic == message.Topic ? null : route.DeadLetterTopic;
        if (await outbox.DeadLetterAsync(message, reason, deadLetterTopic))
            LogDeadLettered(message.MessageId, message.Topic, message.Attempt, deadLetterTopic ?? "dead_letters table", reason);
        else
            LogLeaseLost(message.MessageId, message.Topic);
    }

    public override void Dispose()
    {
        _poll?.Dispose();
        _owner?.Dispose();
        base.Dispose();
    }

    [LoggerMessage(LogLevel.Information, "Outbox dispatcher delivering {TopicCount} topic(s): {Topics}")]
    private partial void LogStarted(int topicCount, string topics);

    [LoggerMessage(LogLevel.Debug, "Delivered message {MessageId} of {Topic} on attempt {Attempt}")]
    private partial void LogDelivered(string messageId, string topic, int attempt);

    [LoggerMessage(LogLevel.Warning,
        "Message {MessageId} of {Topic} failed attempt {Attempt}; next attempt at {NextAttemptAt}: {Reason}")]
    private partial void LogRetryScheduled(string messageId, string topic, int attempt, DateTimeOffset nextAttemptAt,
        string reason);

    [LoggerMessage(LogLevel.Error,
        "Message {MessageId} of {Topic} dead-lettered after attempt {Attempt} to {Destination}: {Reason}")]
    private partial void LogDeadLettered(string messageId, string topic, int attempt, string destination, string reason);

    [LoggerMessage(LogLevel.Warning, "Subscriber {Subscriber} threw on message {MessageId}, attempt {Attempt}")]
    private partial void LogSubscriberThrew(Exception exception, string subscriber, string messageId, int attempt);

    [LoggerMessage(LogLevel.Warning,
        "The lease on message {MessageId} of {Topic} ran out before its outcome was recorded; it may be delivered again")]
    private partial void LogLeaseLost(string messageId, string topic);

    [LoggerMessage(LogLevel.Information, "Shutting down: message {MessageId} of {Topic} handed back for redelivery")]
    private partial void LogReleased(string messageId, string topic);

    [LoggerMessage(LogLevel.Error,
        "Could not record the outcome of message {MessageId} of {Topic}; it is delivered again when its lease runs out or this process ends")]
    private partial void LogSettleFailed(Exception exception, string messageId, string topic);

    [LoggerMessage(LogLevel.Error, "Could not claim outbox messages; trying again on the next tick")]
    private partial void LogClaimFailed(Exception exception);
}

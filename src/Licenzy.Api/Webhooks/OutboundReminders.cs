using Dapr.Actors;
using Dapr.Actors.Runtime;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.Actors;

namespace Licenzy.Api.Webhooks;

/// <summary>
/// Keeps the outbound promise where the store cannot be scanned (the Dapr binding): before a
/// message or a delivery's next due time is committed, a reminder for it is registered with the
/// sidecar, due a little after the work should have been done (<see cref="Grace"/>), on an
/// <see cref="OutboundWorkActor"/> named by the work's state key. The process that committed the
/// work normally does it from memory and then drops the reminder; if that process died, the
/// reminder fires on a live replica, which finds the work in the store and does it. A reminder
/// that finds its work done (or never committed) removes itself. On embedded components nothing
/// is registered: the dispatcher scans the store instead.
/// </summary>
public sealed class OutboundReminders(IServiceProvider services, TimeProvider clock)
{
    public const string FanOut = "fan-out";
    public const string Attempt = "attempt";

    /// <summary>How long after its due time work is taken up by a reminder; longer than one attempt may take (15 s).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    /// <summary>How often a reminder fires again until its work is seen done (the replica it fired on may die too).</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    private readonly IActorReminders? _reminders = services.GetService<IActorReminders>();

    /// <summary>Before committing messages: each is fanned out by a reminder if no one hands it over.</summary>
    public Task BeforeMessagesAsync(IReadOnlyCollection<OutboundMessage> messages, CancellationToken ct) =>
        _reminders is null || messages.Count == 0
            ? Task.CompletedTask
            : Task.WhenAll(messages.Select(message => RegisterAsync(message.StateKey, FanOut, clock.GetUtcNow(), ct)));

    /// <summary>Before committing a delivery due at <paramref name="due"/>: it is attempted by a reminder if no one attempts it.</summary>
    public Task BeforeDueAsync(string deliveryKey, DateTimeOffset due, CancellationToken ct) =>
        _reminders is null ? Task.CompletedTask : RegisterAsync(deliveryKey, Attempt, due, ct);

    /// <summary>Before committing several deliveries.</summary>
    public Task BeforeDueAsync(IEnumerable<(string DeliveryKey, DateTimeOffset Due)> deliveries, CancellationToken ct) =>
        _reminders is null ? Task.CompletedTask : Task.WhenAll(deliveries.Select(d => RegisterAsync(d.DeliveryKey, Attempt, d.Due, ct)));

    /// <summary>The work is done: its reminder is not needed. Best effort; a reminder left fires, finds it done, and goes.</summary>
    public async Task DoneAsync(string stateKey, string reminder)
    {
        if (_reminders is null) return;
        try
        {
            await _reminders.UnregisterAsync(OutboundWorkActor.ActorType, stateKey, reminder, CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The reminder fires later, finds the work done, and removes itself.
        }
    }

    private Task RegisterAsync(string stateKey, string reminder, DateTimeOffset due, CancellationToken ct) =>
        _reminders!.RegisterAsync(OutboundWorkActor.ActorType, stateKey, reminder, due + Grace - clock.GetUtcNow(), Period, ct);
}

/// <summary>Reached only by its reminders; it has no methods to call.</summary>
public interface IOutboundWork : IActor;

/// <summary>
/// The actor whose reminders take up outbound work that its process left undone: its id is the
/// state key of a message (reminder <see cref="OutboundReminders.FanOut"/>) or of a delivery
/// (reminder <see cref="OutboundReminders.Attempt"/>). Hosted only on the Dapr binding.
/// </summary>
public sealed class OutboundWorkActor(ActorHost host, WebhookDispatcher dispatcher, OutboundReminders reminders) : Actor(host), IOutboundWork, IRemindable
{
    public const string ActorType = "OutboundWork";

    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        var key = Id.GetId();
        var done = reminderName switch
        {
            OutboundReminders.FanOut => await dispatcher.TakeUpMessageAsync(key, CancellationToken.None),
            OutboundReminders.Attempt => await dispatcher.TakeUpDeliveryAsync(key, CancellationToken.None),
            _ => true,
        };
        if (done) await reminders.DoneAsync(key, reminderName);
    }

    /// <summary>Hosts the actor on the Dapr binding; on embedded components it is never reached.</summary>
    public static IServiceCollection AddOutboundWorkActor(IServiceCollection services) =>
        services.AddActor<IOutboundWork, OutboundWorkActor>(ActorType, static (_, _) =>
            throw new NotSupportedException("Outbound work is taken up by reminders only on the Dapr binding."));
}

namespace Licenzy.Infrastructure.Actors;

/// <summary>
/// Durable reminders on actors: once registered, the sidecar calls the actor's
/// <see cref="global::Dapr.Actors.Runtime.IRemindable.ReceiveReminderAsync"/> after
/// <c>dueTime</c> and then every <c>period</c> until the reminder is unregistered, on whichever
/// app instance hosts the actor then. Dapr keeps reminders outside the apps (its scheduler), so
/// they outlive the instance that registered them. Only the Dapr binding registers this service:
/// on embedded components the store can be scanned instead, and nothing asks for reminders.
/// Registering a name again replaces the reminder of that name.
/// </summary>
public interface IActorReminders
{
    Task RegisterAsync(string actorType, string actorId, string name, TimeSpan dueTime, TimeSpan period, CancellationToken cancellationToken);

    Task UnregisterAsync(string actorType, string actorId, string name, CancellationToken cancellationToken);
}

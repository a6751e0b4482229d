using Licenzy.Infrastructure.PubSub;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>Which subscriber type handles each topic in this process, and where its dead letters go.</summary>
internal sealed record SubscriberRoute(string Topic, Type SubscriberType, string? DeadLetterTopic);

/// <summary>
/// The topics this process subscribes to, read once at start from the registered
/// <see cref="ISubscriber"/>s. One subscriber per topic, as with one Dapr subscription per app.
/// </summary>
internal sealed class SubscriberRoutes
{
    private readonly Dictionary<string, SubscriberRoute> _byTopic;

    private SubscriberRoutes(Dictionary<string, SubscriberRoute> byTopic) => _byTopic = byTopic;

    public IReadOnlyCollection<string> Topics => _byTopic.Keys;

    public SubscriberRoute this[string topic] => _byTopic[topic];

    public static async Task<SubscriberRoutes> DiscoverAsync(IServiceScopeFactory scopes)
    {
        var byTopic = new Dictionary<string, SubscriberRoute>(StringComparer.Ordinal);
        await using var scope = scopes.CreateAsyncScope();

        foreach (var subscriber in scope.ServiceProvider.GetServices<ISubscriber>())
        {
            var type = subscriber.GetType();
            if (string.IsNullOrEmpty(subscriber.Topic))
                throw new InvalidOperationException($"Subscriber {type.Name} has no topic.");
            if (byTopic.TryGetValue(subscriber.Topic, out var existing) && existing.SubscriberType != type)
                throw new InvalidOperationException(
                    $"Topic '{subscriber.Topic}' has two subscribers, {existing.SubscriberType.Name} and {type.Name}; " +
                    "a process may have only one per topic.");

            byTopic[subscriber.Topic] = new SubscriberRoute(subscriber.Topic, type, subscriber.DeadLetterTopic);
        }

        return new SubscriberRoutes(byTopic);
    }
}

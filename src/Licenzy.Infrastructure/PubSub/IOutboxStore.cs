namespace Licenzy.Infrastructure.PubSub;

/// <summary>
/// Stores a record and publishes it as a message in one step: either both happen or neither.
/// Ingest uses it so that no Stripe event is stored without being published, or published
/// without being stored. (Embedded: one SQLite transaction into the state and outbox tables;
/// Dapr: the state transaction API on a store with a transactional outbox.)
/// </summary>
public interface IOutboxStore
{
    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="key"/> in <paramref name="storeName"/>
    /// unless the key exists, and publishes it to <paramref name="topic"/> with message id
    /// <paramref name="messageId"/>. Returns false, and does nothing, when the key already exists.
    /// Returns only once both are durable.
    /// </summary>
    Task<bool> TryStoreAndPublishAsync<T>(string storeName, string key, T value, string topic, string messageId,
        CancellationToken cancellationToken = default);
}

/// <summary>Publishes a message to a topic. At-least-once delivery to subscribers.</summary>
public interface IPublisher
{
    Task PublishAsync<T>(string topic, string messageId, T data, CancellationToken cancellationToken = default);
}

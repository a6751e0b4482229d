using Dapr.Client;
using Licenzy.Infrastructure.PubSub;
using Licenzy.Infrastructure.State;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>
/// Store-and-publish through the state store's transactional outbox: the event store component is
/// configured with <c>outboxPublishPubsub</c> and <c>outboxPublishTopic</c>, so the sidecar
/// publishes what the transaction writes, and only if it commits. The message id becomes the
/// CloudEvent id through the operation's <c>outbox.cloudevent.id</c> metadata.
/// </summary>
public sealed class DaprOutboxStore(DaprStateStoreFactory stores) : IOutboxStore
{
    public const string CloudEventIdMetadata = "outbox.cloudevent.id";

    public Task<bool> TryStoreAndPublishAsync<T>(string storeName, string key, T value, string topic, string messageId,
        CancellationToken cancellationToken = default)
    {
        // The topic is the component's outboxPublishTopic; a deployment test checks it is this one.
        var insert = DaprStateStore.Request(new StateOperation.Upsert(key, value!, MustNotExist: true));
        insert.Metadata = new Dictionary<string, string> { [CloudEventIdMetadata] = messageId };
        return stores.Store(storeName).TransactAsync([insert], cancellationToken);
    }
}

/// <summary>Publishes through the sidecar with the SDK, the message id as the CloudEvent id.</summary>
public sealed class DaprPublisher(DaprClient dapr) : IPublisher
{
    public const string CloudEventIdMetadata = "cloudevent.id";

    public Task PublishAsync<T>(string topic, string messageId, T data, CancellationToken cancellationToken = default) =>
        dapr.PublishEventAsync(Components.PubSub, topic, data, new Dictionary<string, string> { [CloudEventIdMetadata] = messageId },
            cancellationToken);
}

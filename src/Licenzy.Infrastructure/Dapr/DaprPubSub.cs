using Licenzy.Infrastructure.PubSub;
using Licenzy.Infrastructure.State;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>
/// Store-and-publish through the state store's transactional outbox: the event store component
/// is configured with <c>outboxPublishPubsub</c> and <c>outboxPublishTopic</c>, so the sidecar
/// publishes what the transaction writes, and only if it commits. The message id is passed as
/// the CloudEvent id.
/// </summary>
public sealed class DaprOutboxStore(DaprStateStoreFactory stores) : IOutboxStore
{
    public Task<bool> TryStoreAndPublishAsync<T>(string storeName, string key, T value, string topic, string messageId,
        CancellationToken cancellationToken = default) =>
        // The topic is the component's outboxPublishTopic; the deployment test checks it is this one.
        stores.Store(storeName).TransactAsync(
            [new StateOperation.Upsert(key, value!, MustNotExist: true)],
            new Dictionary<string, string> { ["cloudevent.id"] = messageId }, cancellationToken);
}

/// <summary>Publishes through the sidecar (<c>/v1.0/publish/{pubsub}/{topic}</c>) as a CloudEvent with our id.</summary>
public sealed class DaprPublisher(DaprSidecar sidecar) : IPublisher
{
    public async Task PublishAsync<T>(string topic, string messageId, T data, CancellationToken cancellationToken = default)
    {
        var cloudEvent = new CloudEvent<T>(messageId, "licenzy", $"com.licenzy.{topic}", "1.0", "application/json", data);
        using var response = await sidecar.SendAsync(HttpMethod.Post,
            $"/v1.0/publish/{Uri.EscapeDataString(Components.PubSub)}/{Uri.EscapeDataString(topic)}", cloudEvent, cancellationToken,
            contentType: "application/cloudevents+json");
        await DaprSidecar.EnsureSuccessAsync(response, $"publish to {topic}", cancellationToken);
    }
}

/// <summary>The CloudEvents 1.0 envelope Dapr uses on pub/sub.</summary>
public sealed record CloudEvent<T>(string Id, string Source, string Type, string Specversion, string Datacontenttype, T Data);

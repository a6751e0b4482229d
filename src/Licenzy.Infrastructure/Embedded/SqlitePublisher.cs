using System.Text.Json;
using Licenzy.Infrastructure.PubSub;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>Publishing is writing an outbox row; the dispatcher delivers it from there.</summary>
internal sealed class SqlitePublisher(OutboxQueue outbox) : IPublisher
{
    public Task PublishAsync<T>(string topic, string messageId, T data, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        var json = JsonSerializer.Serialize(data, LicenzyJson.Options);
        return outbox.PublishAsync(topic, messageId, json, cancellationToken);
    }
}

/// <summary>The state row and the outbox row go into the same SQLite transaction.</summary>
internal sealed class SqliteOutboxStore(OutboxQueue outbox) : IOutboxStore
{
    public Task<bool> TryStoreAndPublishAsync<T>(string storeName, string key, T value, string topic, string messageId,
        CancellationToken cancellationToken = default)
    {
        StateStoreNames.EnsureKnown(storeName);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        var json = JsonSerializer.Serialize(value, LicenzyJson.Options);
        return outbox.TryStoreAndPublishAsync(storeName, key, topic, messageId, json, cancellationToken);
    }
}

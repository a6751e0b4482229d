using System.Text.Json;

namespace Licenzy.Infrastructure.PubSub;

/// <summary>
/// Handles messages of one topic. Registered with <c>services.AddSubscriber&lt;T&gt;()</c>; the
/// pub/sub binding calls it at least once per message, possibly in parallel for different messages.
/// </summary>
public interface ISubscriber
{
    string Topic { get; }

    /// <summary>
    /// Where undeliverable messages go (dropped, or retried too often): a topic of their own, with
    /// a subscriber of its own. Null to have none.
    /// </summary>
    string? DeadLetterTopic { get; }

    Task<DeliveryResult> HandleAsync(Message message, CancellationToken cancellationToken);
}

/// <summary>
/// A delivered message. <see cref="Data"/> is the JSON that was published; <see cref="Attempt"/>
/// counts deliveries of this message from 1; <see cref="DeadLetterReason"/> is set only on a
/// dead-letter topic and says why the original message was given up.
/// </summary>
public sealed record Message(string Id, string Topic, JsonElement Data, int Attempt, string? DeadLetterReason = null);

/// <summary>What the subscriber did with a message (Dapr's SUCCESS / RETRY / DROP).</summary>
public sealed record DeliveryResult
{
    public DeliveryStatus Status { get; }

    /// <summary>Why the message was dropped or is retried; ends up beside a dead letter.</summary>
    public string? Reason { get; }

    private DeliveryResult(DeliveryStatus status, string? reason) => (Status, Reason) = (status, reason);

    public static DeliveryResult Success { get; } = new(DeliveryStatus.Success, null);
    public static DeliveryResult Retry(string reason) => new(DeliveryStatus.Retry, reason);
    public static DeliveryResult Drop(string reason) => new(DeliveryStatus.Drop, reason);
}

public enum DeliveryStatus { Success, Retry, Drop }

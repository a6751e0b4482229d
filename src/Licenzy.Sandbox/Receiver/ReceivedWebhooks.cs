namespace Licenzy.Sandbox.Receiver;

/// <summary>One webhook as the sandbox's receiver got it: the Standard Webhooks headers and the body as sent.</summary>
public sealed record ReceivedWebhook(DateTimeOffset ReceivedAt, string? WebhookId, string? WebhookTimestamp, string? WebhookSignature,
    string Body, int AnsweredStatus);

/// <summary>
/// The last webhooks the receiver got, newest first, in memory: a developer's window onto what
/// Licenzy tells a tenant's app. Bounded, so a loop of deliveries cannot grow it.
/// </summary>
public sealed class ReceivedWebhooks
{
    public const int Capacity = 200;

    private readonly LinkedList<ReceivedWebhook> _received = new();
    private readonly Lock _gate = new();

    public void Add(ReceivedWebhook webhook)
    {
        lock (_gate)
        {
            _received.AddFirst(webhook);
            if (_received.Count > Capacity) _received.RemoveLast();
        }
    }

    public IReadOnlyList<ReceivedWebhook> Newest()
    {
        lock (_gate) return [.. _received];
    }

    public void Clear()
    {
        lock (_gate) _received.Clear();
    }
}

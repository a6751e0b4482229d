using System.Collections.Concurrent;
using Licenzy.Sandbox.Account;

namespace Licenzy.Sandbox.Webhooks;

/// <summary>The event that could not be delivered, and what Licenzy answered.</summary>
public sealed record DeliveryFailure(SandboxEvent Event, WebhookAnswer Answer);

/// <summary>
/// What one delivery run did: the events Licenzy accepted, in order, and, when it stopped early,
/// the event it stopped at and how many events still wait (that one included).
/// </summary>
public sealed record DeliveryReport(IReadOnlyList<SandboxEvent> Delivered, DeliveryFailure? Failure, int Waiting)
{
    public bool AllDelivered => Failure is null;
}

/// <summary>
/// Delivers a tenant's events one at a time and in the order they happened, as Licenzy's ingest
/// route would receive them from one Stripe account. An event Licenzy does not accept stays first
/// in its tenant's line, with everything after it, and goes again with the tenant's next delivery:
/// nothing is dropped, and nothing overtakes it. Kept in memory, like the rest of the sandbox.
/// </summary>
public sealed class WebhookDeliveries(WebhookSender sender)
{
    private readonly ConcurrentDictionary<string, TenantLine> _lines = new(StringComparer.Ordinal);

    /// <summary>
    /// Waits for the tenant's turn. Make the change that causes events within the turn, so that
    /// changes and their events keep one order per tenant.
    /// </summary>
    public async Task<DeliveryTurn> BeginAsync(string tenantId, CancellationToken ct)
    {
        var line = _lines.GetOrAdd(tenantId, _ => new TenantLine());
        await line.Turn.WaitAsync(ct);
        return new DeliveryTurn(tenantId, line, sender);
    }

    /// <summary>Whether <paramref name="eventId"/> still waits to be delivered to the tenant.</summary>
    public bool IsWaiting(string tenantId, string eventId) =>
        _lines.TryGetValue(tenantId, out var line) && line.Contains(eventId);

    internal sealed class TenantLine
    {
        private readonly Lock _gate = new();
        private readonly List<SandboxEvent> _waiting = [];

        public SemaphoreSlim Turn { get; } = new(1, 1);

        public int Count
        {
            get
            {
                lock (_gate) return _waiting.Count;
            }
        }

        public SandboxEvent? First
        {
            get
            {
                lock (_gate) return _waiting.Count > 0 ? _waiting[0] : null;
            }
        }

        public void Add(IEnumerable<SandboxEvent> events)
        {
            lock (_gate) _waiting.AddRange(events);
        }

        public void RemoveFirst()
        {
            lock (_gate) _waiting.RemoveAt(0);
        }

        public bool Contains(string eventId)
        {
            lock (_gate) return _waiting.Any(e => e.Id == eventId);
        }
    }
}

/// <summary>One caller's turn at a tenant's deliveries; disposing it lets the next caller in.</summary>
public sealed class DeliveryTurn : IAsyncDisposable
{
    private readonly string _tenantId;
    private readonly WebhookDeliveries.TenantLine _line;
    private readonly WebhookSender _sender;
    private bool _ended;

    internal DeliveryTurn(string tenantId, WebhookDeliveries.TenantLine line, WebhookSender sender) =>
        (_tenantId, _line, _sender) = (tenantId, line, sender);

    /// <summary>Events of earlier turns that Licenzy has not accepted yet.</summary>
    public int Waiting => _line.Count;

    /// <summary>Queues <paramref name="events"/> behind any still waiting, then delivers in order until one is refused.</summary>
    public async Task<DeliveryReport> DeliverAsync(IReadOnlyList<SandboxEvent> events, CancellationToken ct)
    {
        _line.Add(events);
        var delivered = new List<SandboxEvent>();
        while (_line.First is { } next)
        {
            var answer = await _sender.SendAsync(_tenantId, next, ct);
            if (!answer.Accepted) return new DeliveryReport(delivered, new DeliveryFailure(next, answer), _line.Count);
            _line.RemoveFirst();
            delivered.Add(next);
        }

        return new DeliveryReport(delivered, null, 0);
    }

    public ValueTask DisposeAsync()
    {
        if (!_ended)
        {
            _ended = true;
            _line.Turn.Release();
        }

        return ValueTask.CompletedTask;
    }
}

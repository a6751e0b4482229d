using System.Collections.Concurrent;
using Licenzy.Infrastructure.PubSub;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Testing;

/// <summary>
/// Lets a test wait until a published message has been handled, retried, or given up on,
/// instead of sleeping: every subscriber is wrapped so that each result it returns is recorded.
/// </summary>
public sealed class DeliveryObserver
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<(string Topic, string Id), MessageLog> _logs = new();

    /// <summary>Waits for the final result (Success or Drop) of message <paramref name="id"/> on <paramref name="topic"/>.</summary>
    public Task<DeliveryResult> WaitAsync(string topic, string id) =>
        Log(topic, id).WaitAsync(results => results.LastOrDefault(r => r.Status != DeliveryStatus.Retry), $"message {id} on {topic} to be handled");

    /// <summary>Waits for the final result of message <paramref name="id"/>; says how many retries came before it.</summary>
    public async Task<(DeliveryResult Final, int Retries)> WaitWithRetriesAsync(string topic, string id)
    {
        var log = Log(topic, id);
        var final = await WaitAsync(topic, id);
        return (final, log.Count(DeliveryStatus.Retry));
    }

    /// <summary>Waits until deliveries of message <paramref name="id"/> were answered with Retry <paramref name="count"/> times.</summary>
    public Task<DeliveryResult> WaitForRetriesAsync(string topic, string id, int count = 1) =>
        Log(topic, id).WaitAsync(results => results.Count(r => r.Status == DeliveryStatus.Retry) >= count ? results.Last() : null,
            $"message {id} on {topic} to be retried {count} times");

    private MessageLog Log(string topic, string id) => _logs.GetOrAdd((topic, id), _ => new MessageLog());

    internal void ObserveSubscribers(IServiceCollection services)
    {
        var registrations = services.Where(d => d.ServiceType == typeof(ISubscriber)).ToList();
        foreach (var registration in registrations)
        {
            services.Remove(registration);
            services.Add(new ServiceDescriptor(typeof(ISubscriber),
                provider => new Observed(Create(provider, registration), this), registration.Lifetime));
        }
    }

    private static ISubscriber Create(IServiceProvider provider, ServiceDescriptor registration) =>
        registration.ImplementationFactory is { } factory ? (ISubscriber)factory(provider)
        : registration.ImplementationInstance is ISubscriber instance ? instance
        : (ISubscriber)ActivatorUtilities.CreateInstance(provider, registration.ImplementationType!);

    /// <summary>The results one message got, and whoever waits on them.</summary>
    private sealed class MessageLog
    {
        private readonly Lock _gate = new();
        private readonly List<DeliveryResult> _results = [];
        private readonly List<(Func<List<DeliveryResult>, DeliveryResult?> Done, TaskCompletionSource<DeliveryResult> Waiter)> _waiters = [];

        public void Add(DeliveryResult result)
        {
            lock (_gate)
            {
                _results.Add(result);
                foreach (var waiter in _waiters.ToList())
                {
                    if (waiter.Done(_results) is { } reached)
                    {
                        waiter.Waiter.TrySetResult(reached);
                        _waiters.Remove(waiter);
                    }
                }
            }
        }

        public int Count(DeliveryStatus status)
        {
            lock (_gate) return _results.Count(r => r.Status == status);
        }

        public async Task<DeliveryResult> WaitAsync(Func<List<DeliveryResult>, DeliveryResult?> done, string what)
        {
            var waiter = new TaskCompletionSource<DeliveryResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                if (done(_results) is { } reached) return reached;
                _waiters.Add((done, waiter));
            }
            if (await Task.WhenAny(waiter.Task, Task.Delay(Guard)) != waiter.Task)
                throw new TimeoutException($"waited {Guard.TotalSeconds} s for {what}");
            return await waiter.Task;
        }
    }

    private sealed class Observed(ISubscriber inner, DeliveryObserver observer) : ISubscriber
    {
        public string Topic => inner.Topic;
        public string? DeadLetterTopic => inner.DeadLetterTopic;

        public async Task<DeliveryResult> HandleAsync(Message message, CancellationToken cancellationToken)
        {
            var result = await inner.HandleAsync(message, cancellationToken);
            observer.Log(message.Topic, message.Id).Add(result);
            return result;
        }
    }
}

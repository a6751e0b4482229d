using System.Collections.Concurrent;
using Licenzy.Infrastructure.PubSub;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Testing;

/// <summary>
/// Lets a test wait until a published message has been handled (or given up on), instead of
/// sleeping: every subscriber is wrapped so that a final result completes a task per message.
/// </summary>
public sealed class DeliveryObserver
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<(string Topic, string Id), TaskCompletionSource<DeliveryResult>> _results = new();

    /// <summary>Waits for the final result of message <paramref name="id"/> on <paramref name="topic"/>.</summary>
    public async Task<DeliveryResult> WaitAsync(string topic, string id)
    {
        var result = Slot(topic, id).Task;
        if (await Task.WhenAny(result, Task.Delay(Guard)) != result)
            throw new TimeoutException($"message {id} on {topic} was not handled within {Guard.TotalSeconds} s");
        return await result;
    }

    private TaskCompletionSource<DeliveryResult> Slot(string topic, string id) =>
        _results.GetOrAdd((topic, id), _ => new TaskCompletionSource<DeliveryResult>(TaskCreationOptions.RunContinuationsAsynchronously));

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

    private sealed class Observed(ISubscriber inner, DeliveryObserver observer) : ISubscriber
    {
        public string Topic => inner.Topic;
        public string? DeadLetterTopic => inner.DeadLetterTopic;

        public async Task<DeliveryResult> HandleAsync(Message message, CancellationToken cancellationToken)
        {
            var result = await inner.HandleAsync(message, cancellationToken);
            if (result.Status != DeliveryStatus.Retry) observer.Slot(message.Topic, message.Id).TrySetResult(result);
            return result;
        }
    }
}

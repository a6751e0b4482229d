using Dapr.Actors;
using Dapr.Actors.Runtime;
using Licenzy.Infrastructure.Actors;
using Licenzy.Infrastructure.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Licenzy.Infrastructure.Tests;

/// <summary>Actors on embedded components: the in-process form of each actor, its turns in <see cref="ActorTurns"/>.</summary>
public sealed class ActorTests : IDisposable
{
    private readonly TempDataFolder _folder = new();
    private readonly Rendezvous _rendezvous = new();
    private readonly IHost _host;
    private readonly IActorProxies _actors;

    public ActorTests()
    {
        _host = TestHost.Build(_folder, services: s => s
            .AddSingleton(_rendezvous)
            .AddActor<ICounterActor, CounterActor>("counter", (provider, id) => new CounterActor.InProcess(id, provider))
            .AddActor<IRendezvousActor, RendezvousActor>("rendezvous", (provider, id) => new RendezvousActor.InProcess(id, provider)));
        _actors = _host.Services.GetRequiredService<IActorProxies>();
    }

    public void Dispose()
    {
        _host.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task Turns_on_one_id_run_one_at_a_time()
    {
        // Each turn reads, yields, then writes without an ETag: overlapping turns would lose updates.
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() =>
            _actors.Get<ICounterActor>("counter", "subject-1").IncrementAsync(1, CancellationToken.None))));

        var stored = await _host.Services.GetRequiredService<IStateStoreFactory>()
            .Get(Components.StateStore).GetAsync<int>("counter/subject-1");
        Assert.Equal(200, stored!.Value);
        Assert.Equal(Enumerable.Range(1, 200), results.Order());
        Assert.Equal(0, _host.Services.GetRequiredService<ActorTurns>().Count);
    }

    [Fact]
    public async Task Each_id_is_its_own_actor()
    {
        await _actors.Get<ICounterActor>("counter", "subject-a").IncrementAsync(2, CancellationToken.None);
        var b = await _actors.Get<ICounterActor>("counter", "subject-b").IncrementAsync(5, CancellationToken.None);

        Assert.Equal(5, b);
    }

    [Fact]
    public async Task Turns_on_different_ids_run_side_by_side()
    {
        // A's turn cannot end until B's turn has run: if ids shared one lock this would never finish.
        var waiting = _actors.Get<IRendezvousActor>("rendezvous", "a").WaitAsync(CancellationToken.None);
        await _rendezvous.Waiting.Task.WaitAsync(Guard.Timeout);
        await _actors.Get<IRendezvousActor>("rendezvous", "b").OpenAsync(CancellationToken.None).WaitAsync(Guard.Timeout);

        Assert.Equal("opened", await waiting.WaitAsync(Guard.Timeout));
    }

    [Fact]
    public async Task A_caller_that_gives_up_waiting_does_not_keep_the_lock_alive()
    {
        var holding = _actors.Get<IRendezvousActor>("rendezvous", "a").WaitAsync(CancellationToken.None);
        await _rendezvous.Waiting.Task.WaitAsync(Guard.Timeout);

        using var giveUp = new CancellationTokenSource();
        var queued = _actors.Get<IRendezvousActor>("rendezvous", "a").OpenAsync(giveUp.Token);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);

        _rendezvous.Opened.TrySetResult();
        await holding.WaitAsync(Guard.Timeout);
        Assert.Equal(0, _host.Services.GetRequiredService<ActorTurns>().Count);
    }

    [Fact]
    public void An_unknown_actor_type_is_a_clear_error()
    {
        var error = Assert.Throws<InvalidOperationException>(() => _actors.Get<ICounterActor>("countr", "x"));

        Assert.Contains("'countr'", error.Message);
        Assert.Contains("counter", error.Message);
    }

    [Fact]
    public void An_actor_type_is_reached_only_through_its_own_interface()
    {
        var error = Assert.Throws<InvalidOperationException>(() => _actors.Get<IRendezvousActor>("counter", "x"));

        Assert.Contains(nameof(ICounterActor), error.Message);
    }

    public interface ICounterActor : IActor
    {
        Task<int> IncrementAsync(int units, CancellationToken cancellationToken);
    }

    /// <summary>Registered for the Dapr runtime; these tests use its in-process form.</summary>
    private sealed class CounterActor(ActorHost host) : Actor(host), ICounterActor
    {
        public Task<int> IncrementAsync(int units, CancellationToken cancellationToken) => throw new NotSupportedException();

        public sealed class InProcess(string id, IServiceProvider services) : ICounterActor
        {
            private readonly ActorTurns _turns = services.GetRequiredService<ActorTurns>();
            private readonly IStateStore _store = services.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore);

            public Task<int> IncrementAsync(int units, CancellationToken cancellationToken) =>
                _turns.RunAsync("counter", id, async () =>
                {
                    var key = $"counter/{id}";
                    var current = (await _store.GetAsync<int>(key, cancellationToken))?.Value ?? 0;
                    await Task.Yield();
                    await _store.SaveAsync(key, current + units, cancellationToken);
                    return current + units;
                }, cancellationToken);
        }
    }

    public interface IRendezvousActor : IActor
    {
        Task<string> WaitAsync(CancellationToken cancellationToken);

        Task<string> OpenAsync(CancellationToken cancellationToken);
    }

    public sealed class Rendezvous
    {
        public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Opened { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class RendezvousActor(ActorHost host) : Actor(host), IRendezvousActor
    {
        public Task<string> WaitAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<string> OpenAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public sealed class InProcess(string id, IServiceProvider services) : IRendezvousActor
        {
            private readonly ActorTurns _turns = services.GetRequiredService<ActorTurns>();
            private readonly Rendezvous _rendezvous = services.GetRequiredService<Rendezvous>();

            public Task<string> WaitAsync(CancellationToken cancellationToken) =>
                _turns.RunAsync("rendezvous", id, async () =>
                {
                    _rendezvous.Waiting.TrySetResult();
                    await _rendezvous.Opened.Task.WaitAsync(Guard.Timeout, cancellationToken);
                    return "opened";
                }, cancellationToken);

            public Task<string> OpenAsync(CancellationToken cancellationToken) =>
                _turns.RunAsync("rendezvous", id, () =>
                {
                    _rendezvous.Opened.TrySetResult();
                    return Task.FromResult("opened");
                }, cancellationToken);
        }
    }
}

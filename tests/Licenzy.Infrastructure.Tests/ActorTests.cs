using System.Text.Json;
using Licenzy.Infrastructure.Actors;
using Licenzy.Infrastructure.Embedded;
using Licenzy.Infrastructure.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Licenzy.Infrastructure.Tests;

public sealed class ActorTests : IDisposable
{
    private readonly TempDataFolder _folder = new();
    private readonly Rendezvous _rendezvous = new();
    private readonly IHost _host;
    private readonly IActorClient _actors;

    public ActorTests()
    {
        _host = TestHost.Build(_folder, services: s => s
            .AddSingleton(_rendezvous)
            .AddSingleton<TurnCount>()
            .AddActor<CounterActor>("counter")
            .AddActor<RendezvousActor>("rendezvous")
            .AddActor<EchoActor>("echo")
            .AddActor<ObjectEchoActor>("object-echo"));
        _actors = _host.Services.GetRequiredService<IActorClient>();
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
            _actors.InvokeAsync<Increment, int>("counter", "subject-1", "increment", new Increment(1)))));

        var stored = await _host.Services.GetRequiredService<IStateStoreFactory>()
            .Get(Components.StateStore).GetAsync<int>("counter/subject-1");
        Assert.Equal(200, stored!.Value);
        Assert.Equal(Enumerable.Range(1, 200), results.Order());
        Assert.Equal(0, _host.Services.GetRequiredService<ActorTurnLocks>().Count);
    }

    [Fact]
    public async Task Turns_on_different_ids_run_side_by_side()
    {
        // A's turn cannot end until B's turn has run: if ids shared one lock this would never finish.
        var waiting = _actors.InvokeAsync<string, string>("rendezvous", "a", "wait", "");
        await _rendezvous.Waiting.Task.WaitAsync(Guard.Timeout);
        await _actors.InvokeAsync<string, string>("rendezvous", "b", "open", "").WaitAsync(Guard.Timeout);

        Assert.Equal("opened", await waiting.WaitAsync(Guard.Timeout));
    }

    [Fact]
    public async Task A_caller_that_gives_up_waiting_does_not_keep_the_lock_alive()
    {
        var holding = _actors.InvokeAsync<string, string>("rendezvous", "a", "wait", "");
        await _rendezvous.Waiting.Task.WaitAsync(Guard.Timeout);

        using var giveUp = new CancellationTokenSource();
        var queued = _actors.InvokeAsync<string, string>("rendezvous", "a", "open", "", giveUp.Token);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);

        _rendezvous.Opened.TrySetResult();
        await holding.WaitAsync(Guard.Timeout);
        Assert.Equal(0, _host.Services.GetRequiredService<ActorTurnLocks>().Count);
    }

    [Fact]
    public async Task Requests_and_responses_cross_as_licenzy_json()
    {
        var reply = await _actors.InvokeAsync<Increment, EchoReply>("echo", "subject-9", "describe", new Increment(5));

        Assert.Equal("subject-9", reply.ActorId);
        Assert.Equal("describe", reply.Method);
        Assert.Equal("{\"units_to_add\":5}", reply.RequestJson);
    }

    [Fact]
    public async Task An_object_actor_gets_the_request_itself_in_process_and_its_turns_are_still_one_at_a_time()
    {
        var request = new Increment(5);
        var reply = await _actors.InvokeAsync<Increment, ObjectEchoReply>("object-echo", "subject-9", "describe", request);

        Assert.Same(request, reply.Request);
        Assert.Equal(("subject-9", "describe"), (reply.ActorId, reply.Method));

        // The turn lock still holds: counting in memory without any guard of its own loses no update.
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() =>
            _actors.InvokeAsync<Increment, ObjectEchoReply>("object-echo", "subject-9", "count", request))));
        Assert.Equal(Enumerable.Range(1, 200), results.Select(r => r.Count).Order());
    }

    [Fact]
    public async Task An_unknown_actor_type_is_a_clear_error()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _actors.InvokeAsync<int, int>("subjet", "x", "apply", 1));

        Assert.Contains("'subjet'", error.Message);
        Assert.Contains("counter", error.Message);
    }

    private sealed record Increment(int UnitsToAdd);

    private sealed record EchoReply(string ActorId, string Method, string RequestJson);

    private sealed record ObjectEchoReply(string ActorId, string Method, object Request, int Count);

    private sealed class CounterActor(IStateStoreFactory stores) : IActor
    {
        public async Task<JsonElement> InvokeAsync(string actorId, string method, JsonElement request,
            CancellationToken cancellationToken)
        {
            var store = stores.Get(Components.StateStore);
            var key = $"counter/{actorId}";
            var current = (await store.GetAsync<int>(key, cancellationToken))?.Value ?? 0;
            await Task.Yield();
            var next = current + request.GetProperty("units_to_add").GetInt32();
            await store.SaveAsync(key, next, cancellationToken);
            return JsonSerializer.SerializeToElement(next, LicenzyJson.Options);
        }
    }

    public sealed class Rendezvous
    {
        public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Opened { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class RendezvousActor(Rendezvous rendezvous) : IActor
    {
        public async Task<JsonElement> InvokeAsync(string actorId, string method, JsonElement request,
            CancellationToken cancellationToken)
        {
            if (method == "wait")
            {
                rendezvous.Waiting.TrySetResult();
                await rendezvous.Opened.Task.WaitAsync(Guard.Timeout, cancellationToken);
            }
            else
            {
                rendezvous.Opened.TrySetResult();
            }
            return JsonSerializer.SerializeToElement("opened", LicenzyJson.Options);
        }
    }

    public sealed class TurnCount
    {
        public int Turns { get; set; }
    }

    /// <summary>Echoes the request object; "count" counts its turns, unguarded, across an await.</summary>
    private sealed class ObjectEchoActor(TurnCount count) : IObjectActor
    {
        public Task<JsonElement> InvokeAsync(string actorId, string method, JsonElement request,
            CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The in-process binding should pass the request object.");

        public async Task<object> InvokeAsync(string actorId, string method, object request, CancellationToken cancellationToken)
        {
            if (method != "count") return new ObjectEchoReply(actorId, method, request, 0);
            var seen = count.Turns;
            await Task.Yield();
            count.Turns = seen + 1;
            return new ObjectEchoReply(actorId, method, request, seen + 1);
        }
    }

    private sealed class EchoActor : IActor
    {
        public Task<JsonElement> InvokeAsync(string actorId, string method, JsonElement request,
            CancellationToken cancellationToken) =>
            Task.FromResult(JsonSerializer.SerializeToElement(
                new EchoReply(actorId, method, request.GetRawText()), LicenzyJson.Options));
    }
}

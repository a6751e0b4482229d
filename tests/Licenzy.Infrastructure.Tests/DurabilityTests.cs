using Licenzy.Infrastructure.Embedded;
using Licenzy.Infrastructure.PubSub;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Licenzy.Infrastructure.Tests;

public sealed class DurabilityTests : IDisposable
{
    private readonly TempDataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static readonly string[] OrderTopic = ["test-orders"];

    [Fact]
    public async Task A_message_published_before_the_process_went_away_is_delivered_by_the_next_one()
    {
        // The first process publishes but does not subscribe (as Ingest), then goes away.
        using (var publisher = await TestHost.StartAsync(_folder))
        {
            await publisher.Services.GetRequiredService<IPublisher>().PublishAsync("test-orders", "order-1", new { units = 1 });
            await publisher.StopAsync();
        }

        var probe = new Probe<MainTopic>();
        using var subscriber = await TestHost.StartAsync(_folder, services: s => s.AddProbe(probe));
        var delivery = await probe.NextAsync();
        await subscriber.StopAsync();

        Assert.Equal("order-1", delivery.Message.Id);
        Assert.Equal(1, delivery.Message.Data.GetProperty("units").GetInt32());
    }

    [Fact]
    public async Task A_claim_is_exclusive_until_its_lease_runs_out()
    {
        var clock = new FakeTimeProvider();
        using var host = TestHost.Build(_folder, clock);
        var outbox = host.Services.GetRequiredService<OutboxQueue>();
        await host.Services.GetRequiredService<IPublisher>().PublishAsync("test-orders", "order-1", 1);
        var lease = TimeSpan.FromSeconds(30);

        var crashed = Assert.Single(await outbox.ClaimAsync("crashed-process", OrderTopic, 10, lease, default));
        Assert.Empty(await outbox.ClaimAsync("other-process", OrderTopic, 10, lease, default));
        clock.Advance(lease - TimeSpan.FromMilliseconds(1));
        Assert.Empty(await outbox.ClaimAsync("other-process", OrderTopic, 10, lease, default));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var taken = Assert.Single(await outbox.ClaimAsync("other-process", OrderTopic, 10, lease, default));

        Assert.Equal(1, crashed.Attempt);
        Assert.Equal(2, taken.Attempt);

        // The old owner, should it wake up, can no longer settle the message.
        Assert.False(await outbox.CompleteAsync(crashed));
        Assert.True(await outbox.CompleteAsync(taken));
        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));
    }

    [Fact]
    public async Task A_lease_whose_owner_no_longer_runs_is_claimed_at_once()
    {
        var clock = new FakeTimeProvider();
        using var host = TestHost.Build(_folder, clock);
        var outbox = host.Services.GetRequiredService<OutboxQueue>();
        await host.Services.GetRequiredService<IPublisher>().PublishAsync("test-orders", "order-1", 1);
        var lease = TimeSpan.FromSeconds(30);

        var dead = host.Services.GetRequiredService<LeaseOwners>().Acquire();
        var crashed = Assert.Single(await outbox.ClaimAsync(dead.Id, OrderTopic, 10, lease, default));
        dead.Dispose(); // what the OS does with a killed process's locks
        var taken = Assert.Single(await outbox.ClaimAsync("other-process", OrderTopic, 10, lease, default));

        Assert.Equal(2, taken.Attempt);
        Assert.Equal(crashed.ClaimedAt, taken.ClaimedAt); // no time had to pass
        Assert.False(await outbox.CompleteAsync(crashed));
        Assert.True(await outbox.CompleteAsync(taken));
    }

    [Fact]
    public async Task A_lease_whose_owner_still_runs_is_respected_until_it_runs_out()
    {
        var clock = new FakeTimeProvider();
        using var host = TestHost.Build(_folder, clock);
        var outbox = host.Services.GetRequiredService<OutboxQueue>();
        await host.Services.GetRequiredService<IPublisher>().PublishAsync("test-orders", "order-1", 1);
        var lease = TimeSpan.FromSeconds(30);

        using var running = host.Services.GetRequiredService<LeaseOwners>().Acquire();
        Assert.Single(await outbox.ClaimAsync(running.Id, OrderTopic, 10, lease, default));
        Assert.Empty(await outbox.ClaimAsync("other-process", OrderTopic, 10, lease, default));
        clock.Advance(lease - TimeSpan.FromMilliseconds(1));
        Assert.Empty(await outbox.ClaimAsync("other-process", OrderTopic, 10, lease, default));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, Assert.Single(await outbox.ClaimAsync("other-process", OrderTopic, 10, lease, default)).Attempt);
    }

    [Fact]
    public async Task A_message_leased_by_a_dispatcher_that_no_longer_runs_is_delivered_as_soon_as_the_next_one_starts()
    {
        var clock = new FakeTimeProvider();
        var probe = new Probe<MainTopic> { Clock = clock };
        using var host = TestHost.Build(_folder, clock, s => s.AddProbe(probe));
        await host.Services.GetRequiredService<IPublisher>().PublishAsync("test-orders", "order-1", 1);
        var claimedAt = clock.GetUtcNow();
        using (var dead = host.Services.GetRequiredService<LeaseOwners>().Acquire())
        {
            Assert.Single(await host.Services.GetRequiredService<OutboxQueue>()
                .ClaimAsync(dead.Id, OrderTopic, 1, TimeSpan.FromSeconds(30), default));
        }

        await host.StartAsync();
        var delivery = await probe.NextAsync();
        await host.StopAsync();

        Assert.Equal(2, delivery.Message.Attempt);
        Assert.Equal(claimedAt, delivery.At);
        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));
    }

    [Fact]
    public async Task A_message_being_delivered_by_another_dispatcher_in_this_process_is_left_to_it()
    {
        var clock = new FakeTimeProvider();
        using var release = new ManualResetEventSlim();
        var busy = new Probe<MainTopic>
        {
            Clock = clock,
            Answer = _ =>
            {
                release.Wait(Guard.Timeout);
                return DeliveryResult.Success;
            },
        };
        var idle = new Probe<MainTopic> { Clock = clock };
        using var first = await TestHost.StartAsync(_folder, clock, s => s.AddProbe(busy));
        await first.Services.GetRequiredService<IPublisher>().PublishAsync("test-orders", "order-1", 1);
        await busy.NextAsync(); // the first dispatcher holds the lease while its subscriber works

        // Another host in this process: another dispatcher, whose lock is not the first one's.
        using var second = await TestHost.StartAsync(_folder, clock, s => s.AddProbe(idle));
        Assert.Empty(await second.Services.GetRequiredService<OutboxQueue>()
            .ClaimAsync("second-look", OrderTopic, 10, TimeSpan.FromSeconds(30), default));
        release.Set();
        await first.StopAsync(); // waits for the delivery to be recorded
        await second.StopAsync();

        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));
        Assert.False(idle.TryTakeDelivery(out _));
    }

    [Fact]
    public async Task A_message_leased_by_an_owner_without_a_lock_file_is_redelivered_once_the_lease_expires()
    {
        // An owner id from before lease owners held lock files, or from a process where locks do not hold.
        var clock = new FakeTimeProvider();
        var probe = new Probe<MainTopic> { Clock = clock };
        using var host = TestHost.Build(_folder, clock, s => s.AddProbe(probe));
        await host.Services.GetRequiredService<IPublisher>().PublishAsync("test-orders", "order-1", 1);
        var claimedAt = clock.GetUtcNow();
        Assert.Single(await host.Services.GetRequiredService<OutboxQueue>()
            .ClaimAsync($"old-host/4242/{Guid.NewGuid():N}", OrderTopic, 1, TimeSpan.FromSeconds(30), default));

        await host.StartAsync();
        clock.Advance(TimeSpan.FromSeconds(30));
        var delivery = await probe.NextAsync();
        await host.StopAsync();

        Assert.Equal(2, delivery.Message.Attempt);
        Assert.True(delivery.At >= claimedAt + TimeSpan.FromSeconds(30));
        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));
    }

    [Fact]
    public async Task A_message_whose_deliveries_never_finish_is_dead_lettered_instead_of_looping()
    {
        var clock = new FakeTimeProvider();
        var probe = new Probe<MainTopic> { Clock = clock, DeadLetterTopic = "test-orders-dead" };
        var deadLetters = new Probe<DeadLetterTopic> { Clock = clock, Topic = "test-orders-dead" };
        var settings = new Dictionary<string, string?> { ["Licenzy:Outbox:MaxAttempts"] = "2" };
        using var host = TestHost.Build(_folder, clock, s => s.AddProbe(probe).AddProbe(deadLetters), settings);
        await host.Services.GetRequiredService<IPublisher>().PublishAsync("test-orders", "poison", 1);
        var outbox = host.Services.GetRequiredService<OutboxQueue>();
        var lease = TimeSpan.FromSeconds(30);

        // Two processes in turn die while delivering it.
        Assert.Single(await outbox.ClaimAsync("dead-1", OrderTopic, 1, lease, default));
        clock.Advance(lease);
        Assert.Single(await outbox.ClaimAsync("dead-2", OrderTopic, 1, lease, default));
        clock.Advance(lease);

        await host.StartAsync();
        var deadLetter = await deadLetters.NextAsync();
        await host.StopAsync();

        Assert.Equal("poison", deadLetter.Message.Id);
        Assert.Contains("never finished", deadLetter.Message.DeadLetterReason);
        Assert.False(probe.TryTakeDelivery(out _));
    }

    [Fact]
    public async Task Two_dispatchers_on_one_file_deliver_each_message_once()
    {
        const int messages = 60;
        var tally = new DeliveryTally(messages);
        var settings = new Dictionary<string, string?> { ["Licenzy:Outbox:PollInterval"] = "00:00:00.020" };
        Probe<MainTopic> CountingProbe() => new()
        {
            Answer = message =>
            {
                tally.Add(message.Id);
                return DeliveryResult.Success;
            },
        };

        // Two "processes": separate containers, separate write gates, one SQLite file.
        using var first = await TestHost.StartAsync(_folder, services: s => s.AddProbe(CountingProbe()), settings: settings);
        using var second = await TestHost.StartAsync(_folder, services: s => s.AddProbe(CountingProbe()), settings: settings);
        var publishers = new[] { first, second }.Select(h => h.Services.GetRequiredService<IPublisher>()).ToArray();

        await Task.WhenAll(Enumerable.Range(0, messages).Select(i =>
            publishers[i % 2].PublishAsync("test-orders", $"order-{i}", i)));
        await tally.AllSeen.WaitAsync(Guard.Timeout);
        await Task.WhenAll(first.StopAsync(), second.StopAsync());

        Assert.Equal(messages, tally.Counts.Count);
        Assert.All(tally.Counts, pair => Assert.Equal(1, pair.Value));
        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));
    }
}

using Licenzy.Infrastructure.PubSub;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Licenzy.Infrastructure.Tests;

public sealed class DispatcherTests : IDisposable
{
    private readonly TempDataFolder _folder = new();
    private readonly FakeTimeProvider _clock = new();

    public void Dispose() => _folder.Dispose();

    private sealed record OrderPlaced(string OrderId, int Units);

    private Task<IHost> StartAsync(Action<IServiceCollection> services, int maxAttempts = 8) =>
        TestHost.StartAsync(_folder, _clock, services, new Dictionary<string, string?>
        {
            ["Licenzy:Outbox:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    private static Task PublishAsync(IHost host, string topic, string id) =>
        host.Services.GetRequiredService<IPublisher>().PublishAsync(topic, id, new OrderPlaced(id, 3));

    [Fact]
    public async Task A_published_message_reaches_its_subscriber_as_licenzy_json()
    {
        var probe = new Probe<MainTopic> { Clock = _clock };
        using var host = await StartAsync(s => s.AddProbe(probe));

        await PublishAsync(host, "test-orders", "order-1");
        var delivery = await probe.NextAsync();
        await host.StopAsync();

        Assert.Equal("order-1", delivery.Message.Id);
        Assert.Equal("test-orders", delivery.Message.Topic);
        Assert.Equal(1, delivery.Message.Attempt);
        Assert.Null(delivery.Message.DeadLetterReason);
        Assert.Equal("order-1", delivery.Message.Data.GetProperty("order_id").GetString());
        Assert.Equal(3, delivery.Message.Data.GetProperty("units").GetInt32());
        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));
    }

    [Fact]
    public async Task A_failing_message_is_retried_after_1_2_and_4_seconds()
    {
        var probe = new Probe<MainTopic> { Clock = _clock };
        probe.Answer = message => message.Attempt switch
        {
            1 => DeliveryResult.Retry("not yet"),
            2 => throw new InvalidOperationException("boom"),
            3 => DeliveryResult.Retry("still not"),
            _ => DeliveryResult.Success,
        };
        using var host = await StartAsync(s => s.AddProbe(probe));
        await PublishAsync(host, "test-orders", "order-1");

        var first = await probe.NextAsync();
        Assert.False(probe.TryTakeDelivery(out _));
        _clock.Advance(TimeSpan.FromSeconds(1));
        var second = await probe.NextAsync();
        _clock.Advance(TimeSpan.FromSeconds(2));
        var third = await probe.NextAsync();
        _clock.Advance(TimeSpan.FromSeconds(4));
        var fourth = await probe.NextAsync();
        await host.StopAsync();

        Assert.Equal([1, 2, 3, 4], new[] { first, second, third, fourth }.Select(d => d.Message.Attempt));
        Assert.Equal(TimeSpan.FromSeconds(1), second.At - first.At);
        Assert.Equal(TimeSpan.FromSeconds(2), third.At - second.At);
        Assert.Equal(TimeSpan.FromSeconds(4), fourth.At - third.At);
        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));
    }

    [Fact]
    public async Task A_message_that_keeps_failing_is_dead_lettered_after_max_attempts()
    {
        var probe = new Probe<MainTopic> { Clock = _clock, Answer = _ => DeliveryResult.Retry("downstream is down") };
        using var host = await StartAsync(s => s.AddProbe(probe), maxAttempts: 3);
        await PublishAsync(host, "test-orders", "order-1");

        await probe.NextAsync();
        _clock.Advance(TimeSpan.FromSeconds(1));
        await probe.NextAsync();
        _clock.Advance(TimeSpan.FromSeconds(2));
        var last = await probe.NextAsync();
        await host.StopAsync(); // waits for the last delivery's outcome to be recorded

        Assert.Equal(3, last.Message.Attempt);
        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));
        Assert.Equal(3L, await _folder.QueryAsync<long>("SELECT attempts FROM dead_letters WHERE message_id = 'order-1'"));
        var reason = await _folder.QueryAsync<string>("SELECT reason FROM dead_letters WHERE message_id = 'order-1'");
        Assert.Contains("3 attempts", reason);
        Assert.Contains("downstream is down", reason);
        Assert.Contains("order_id", await _folder.QueryAsync<string>("SELECT data FROM dead_letters"));
    }

    [Fact]
    public async Task A_dropped_message_is_dead_lettered_at_once_with_the_reason()
    {
        var probe = new Probe<MainTopic> { Clock = _clock, Answer = _ => DeliveryResult.Drop("malformed order") };
        using var host = await StartAsync(s => s.AddProbe(probe));
        await PublishAsync(host, "test-orders", "order-1");

        var only = await probe.NextAsync();
        await host.StopAsync();

        Assert.Equal(1, only.Message.Attempt);
        Assert.Equal("malformed order",
            await _folder.QueryAsync<string>("SELECT reason FROM dead_letters WHERE message_id = 'order-1'"));
        Assert.Equal("test-orders", await _folder.QueryAsync<string>("SELECT topic FROM dead_letters"));
        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));
    }

    [Fact]
    public async Task A_named_dead_letter_topic_receives_the_message_and_the_reason()
    {
        var main = new Probe<MainTopic>
        {
            Clock = _clock, DeadLetterTopic = "test-orders-dead", Answer = _ => DeliveryResult.Drop("malformed order"),
        };
        var deadLetters = new Probe<DeadLetterTopic> { Clock = _clock, Topic = "test-orders-dead" };
        using var host = await StartAsync(s => s.AddProbe(main).AddProbe(deadLetters));
        await PublishAsync(host, "test-orders", "order-1");

        await main.NextAsync();
        var deadLetter = await deadLetters.NextAsync();
        await host.StopAsync();

        Assert.Equal("order-1", deadLetter.Message.Id);
        Assert.Equal("test-orders-dead", deadLetter.Message.Topic);
        Assert.Equal("malformed order", deadLetter.Message.DeadLetterReason);
        Assert.Equal("order-1", deadLetter.Message.Data.GetProperty("order_id").GetString());
        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));
        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM dead_letters"));
    }

    [Fact]
    public async Task Retries_exhausted_also_go_to_the_dead_letter_topic()
    {
        var main = new Probe<MainTopic>
        {
            Clock = _clock, DeadLetterTopic = "test-orders-dead", Answer = _ => DeliveryResult.Retry("down"),
        };
        var deadLetters = new Probe<DeadLetterTopic> { Clock = _clock, Topic = "test-orders-dead" };
        using var host = await StartAsync(s => s.AddProbe(main).AddProbe(deadLetters), maxAttempts: 2);
        await PublishAsync(host, "test-orders", "order-1");

        await main.NextAsync();
        _clock.Advance(TimeSpan.FromSeconds(1));
        await main.NextAsync();
        var deadLetter = await deadLetters.NextAsync();
        await host.StopAsync();

        Assert.Contains("2 attempts", deadLetter.Message.DeadLetterReason);
        Assert.Equal(1, deadLetter.Message.Attempt);
    }

    [Fact]
    public async Task Messages_of_topics_nobody_here_subscribes_to_are_left_alone()
    {
        var probe = new Probe<MainTopic> { Clock = _clock };
        using var host = await StartAsync(s => s.AddProbe(probe));

        await PublishAsync(host, "someone-elses-topic", "theirs");
        await PublishAsync(host, "test-orders", "ours");
        Assert.Equal("ours", (await probe.NextAsync()).Message.Id);
        _clock.Advance(TimeSpan.FromMinutes(1));
        await host.StopAsync();

        Assert.Equal(0L, await _folder.QueryAsync<long>(
            "SELECT attempts FROM outbox WHERE message_id = 'theirs' AND lease_owner IS NULL"));
    }

    [Fact]
    public async Task Many_messages_are_each_delivered_once()
    {
        var tally = new DeliveryTally(expected: 40);
        var probe = new Probe<MainTopic>
        {
            Clock = _clock,
            Answer = message =>
            {
                tally.Add(message.Id);
                return DeliveryResult.Success;
            },
        };
        using var host = await StartAsync(s => s.AddProbe(probe));

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => PublishAsync(host, "test-orders", $"order-{i}")));
        await tally.AllSeen.WaitAsync(Guard.Timeout);
        await host.StopAsync();

        Assert.Equal(40, tally.Counts.Count);
        Assert.All(tally.Counts.Values, count => Assert.Equal(1, count));
    }
}

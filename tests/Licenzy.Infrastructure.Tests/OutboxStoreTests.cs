using Licenzy.Infrastructure.PubSub;
using Licenzy.Infrastructure.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Licenzy.Infrastructure.Tests;

public sealed class OutboxStoreTests : IDisposable
{
    private readonly TempDataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private sealed record ReceivedEvent(string EventId, string Type);

    [Fact]
    public async Task An_event_is_stored_and_published_once_and_a_repeat_changes_nothing()
    {
        var probe = new Probe<MainTopic> { Topic = Topics.BillingEvents };
        using var host = TestHost.Build(_folder, services: s => s.AddProbe(probe));
        var outbox = host.Services.GetRequiredService<IOutboxStore>();
        var events = host.Services.GetRequiredService<IStateStoreFactory>().Get(Components.EventStore);

        var first = await outbox.TryStoreAndPublishAsync(Components.EventStore, "evt_1",
            new ReceivedEvent("evt_1", "invoice.paid"), Topics.BillingEvents, "evt_1");
        var repeat = await outbox.TryStoreAndPublishAsync(Components.EventStore, "evt_1",
            new ReceivedEvent("evt_1", "charge.refunded"), Topics.BillingEvents, "evt_1-again");

        Assert.True(first);
        Assert.False(repeat);
        Assert.Equal("invoice.paid", (await events.GetAsync<ReceivedEvent>("evt_1"))!.Value.Type);
        Assert.Equal(1L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));

        await host.StartAsync();
        var delivery = await probe.NextAsync();
        await host.StopAsync();

        Assert.Equal("evt_1", delivery.Message.Id);
        Assert.Equal("invoice.paid", delivery.Message.Data.GetProperty("type").GetString());
        Assert.False(probe.TryTakeDelivery(out _));
        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));
    }

    [Fact]
    public async Task A_key_that_exists_already_blocks_the_publish()
    {
        using var host = TestHost.Build(_folder);
        var events = host.Services.GetRequiredService<IStateStoreFactory>().Get(Components.EventStore);
        await events.SaveAsync("evt_1", new ReceivedEvent("evt_1", "written directly"));

        var stored = await host.Services.GetRequiredService<IOutboxStore>().TryStoreAndPublishAsync(
            Components.EventStore, "evt_1", new ReceivedEvent("evt_1", "invoice.paid"), Topics.BillingEvents, "evt_1");

        Assert.False(stored);
        Assert.Equal(0L, await _folder.QueryAsync<long>("SELECT count(*) FROM outbox"));
        Assert.Equal("written directly", (await events.GetAsync<ReceivedEvent>("evt_1"))!.Value.Type);
    }

    [Fact]
    public async Task An_unknown_store_name_is_refused()
    {
        using var host = TestHost.Build(_folder);
        await Assert.ThrowsAsync<ArgumentException>(() => host.Services.GetRequiredService<IOutboxStore>()
            .TryStoreAndPublishAsync("licenzy-event", "k", 1, Topics.BillingEvents, "m"));
    }
}

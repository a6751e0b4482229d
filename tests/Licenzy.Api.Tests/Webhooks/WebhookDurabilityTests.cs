using Licenzy.Api.Webhooks;
using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Licenzy.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Api.Tests.Webhooks;

/// <summary>
/// A committed message is told even when the process that committed it stops before handing it
/// over, and a pending retry survives a restart: the next app on the same data finds both in the
/// store (embedded binding).
/// </summary>
public sealed class WebhookDurabilityTests : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;
    private readonly List<string> _dataPaths = [];

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        foreach (var path in _dataPaths)
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
                // Left to the temp folder's cleanup.
            }
        }
    }

    private async Task<PrivateNetworksApp> StartAsync(string? dataPath = null)
    {
        var app = new PrivateNetworksApp { KeepData = true };
        app.Settings["Licenzy:DataPath"] = dataPath ?? app.DataPath;
        _dataPaths.Add(dataPath ?? app.DataPath);
        await ((IAsyncLifetime)app).InitializeAsync();
        _ = app.Server; // started now, not at its first request
        return app;
    }

    [Fact]
    public async Task A_message_committed_but_never_handed_over_is_delivered_by_the_next_app()
    {
        var first = await StartAsync();
        var tenant = await TestTenant.CreateAsync(first, connect: false);
        var endpoint = await tenant.CreateEndpointAsync(_receiver.Url("/after-crash"));
        var (message, write) = first.Services.GetRequiredService<OutboundMessages>()
            .Enqueue(tenant.TenantId, Mode.Test, WebhookEventTypes.EntitlementsUpdated, new { subject_ref = "user_1", version = 1 });
        // The change's transaction commits; the process stops before it tells the dispatcher.
        Assert.True(await first.Services.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore).TryTransactAsync([write]));
        Assert.Empty(await tenant.DeliveriesAsync());
        await ((IAsyncLifetime)first).DisposeAsync();
        Assert.Empty(_receiver.Received);

        var second = await StartAsync(first.DataPath);
        var delivered = (await _receiver.WaitForAsync("/after-crash")).Single();

        Assert.Equal(message.Id, delivered.Headers["webhook-id"]);
        var again = TestTenantView(second, tenant);
        Assert.Equal("delivered", (await again.WaitForDeliveryAsync(endpoint.Id(), d => d.GetProperty("status").GetString() == "delivered", "delivered"))
            .GetProperty("status").GetString());
        await ((IAsyncLifetime)second).DisposeAsync();
    }

    [Fact]
    public async Task A_pending_retry_is_taken_up_by_the_next_app()
    {
        _receiver.AnswerStatus("/retried", 500);
        var first = await StartAsync();
        var tenant = await TestTenant.CreateAsync(first, connect: false);
        var endpoint = await tenant.CreateEndpointAsync(_receiver.Url("/retried"));
        await first.CommitMessageAsync(tenant);
        var pending = await tenant.WaitForAttemptsAsync(endpoint.Id(), 1);
        await ((IAsyncLifetime)first).DisposeAsync();

        _receiver.AnswerStatus("/retried", 200);
        var second = await StartAsync(first.DataPath);
        second.Clock.Advance(pending.GetProperty("next_attempt_at").GetDateTimeOffset() - second.Clock.GetUtcNow());
        var again = TestTenantView(second, tenant);
        var delivered = await again.WaitForDeliveryAsync(endpoint.Id(), d => d.GetProperty("status").GetString() == "delivered", "delivered");

        Assert.Equal(2, delivered.GetProperty("attempts").GetInt32());
        Assert.Equal(2, _receiver.At("/retried").Count());
        await ((IAsyncLifetime)second).DisposeAsync();
    }

    /// <summary>The same tenant, seen through the second app's setup API.</summary>
    private static TestTenant TestTenantView(LicenzyApp app, TestTenant tenant) => TestTenant.Existing(app, tenant.TenantId, tenant.Mode);
}

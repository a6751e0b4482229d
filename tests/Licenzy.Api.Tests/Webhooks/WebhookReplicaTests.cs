using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Api.Subjects;
using Licenzy.Api.Webhooks;
using Licenzy.Domain;
using Licenzy.Testing;

namespace Licenzy.Api.Tests.Webhooks;

/// <summary>
/// The outbound promise on the Dapr binding, with two Api replicas: work that a replica held when
/// it stopped (a message committed but not handed over, a retry it was waiting to make) is taken
/// up by the replica left, through the reminders registered before each commit. Each test has a
/// cluster of its own, because each stops a replica.
/// </summary>
public sealed class WebhookReplicaTests : IAsyncLifetime
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly DaprCluster _cluster = new();
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _cluster.Settings["Licenzy:Webhooks:AllowPrivateNetworks"] = "true";
        _receiver = await WebhookReceiver.StartAsync();
        await _cluster.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private static HttpRequestMessage Consume(string subjectRef, int units, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/usage/consume") { Content = JsonContent.Create(new { subject_ref = subjectRef, units }) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    private async Task<(TestTenant Tenant, SubjectKey Subject, string EndpointId)> TenantWithEndpointAsync()
    {
        var tenant = await TestTenant.CreateAsync(_cluster);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        var endpoint = await tenant.CreateEndpointAsync(_receiver.Url("/hook"), [WebhookEventTypes.EntitlementsUpdated]);
        return (tenant, new SubjectKey(tenant.TenantId, Mode.Test, "user_1"), endpoint.Id());
    }

    /// <summary>The replica hosting the subject's actor: the one that writes its changes and hands their messages over.</summary>
    private async Task<DaprCluster.Replica> WriterOfAsync(SubjectKey subject)
    {
        var name = await _cluster.Sidecar.PlacementOfAsync(SubjectActor.ActorType, subject.ActorId);
        return _cluster.Api.Single(replica => replica.Name == name);
    }

    private IEnumerable<string> RemindersLeft() =>
        _cluster.Sidecar.Reminders().Where(reminder => reminder.StartsWith(OutboundWorkActor.ActorType + "|", StringComparison.Ordinal));

    /// <summary>Waits until no outbound reminder is left (dropping one after its work is best effort, so it may come a moment later).</summary>
    private async Task NoRemindersLeftAsync()
    {
        var watch = Stopwatch.StartNew();
        while (RemindersLeft().Any())
        {
            if (watch.Elapsed > Guard) Assert.Fail($"reminders left: {string.Join(", ", RemindersLeft())}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_change_whose_replica_dies_between_commit_and_hand_over_is_still_told()
    {
        var (tenant, subject, _) = await TenantWithEndpointAsync();
        var writer = await WriterOfAsync(subject);
        var other = _cluster.Api.Single(replica => replica != writer);

        // The consume commits, and the replica stops before the turn goes on to hand the message over.
        writer.Gate.Arm(subject.StateKey, afterCommit: true);
        var consume = other.Client(tenant.ApiKey).SendAsync(Consume("user_1", 5, "k1"));
        await writer.Gate.Reached.WaitAsync(Guard);
        await _cluster.StopAsync(writer);
        Assert.Equal(HttpStatusCode.InternalServerError, (await consume).StatusCode);
        Assert.Empty(_receiver.At("/hook"));

        // A minute on, the reminder registered before the commit fires on the replica left.
        _cluster.Clock.Advance(Licenzy.Api.Webhooks.OutboundReminders.Grace + TimeSpan.FromSeconds(1));
        var received = Assert.Single(await _receiver.WaitForAsync("/hook"));
        var told = JsonDocument.Parse(received.Body).RootElement;
        Assert.Equal(WebhookEventTypes.EntitlementsUpdated, told.GetProperty("type").GetString());
        var now = await tenant.EntitlementsAsync("user_1");
        Assert.Equal(now.GetProperty("version").GetInt64(), told.GetProperty("data").GetProperty("version").GetInt64());
        Assert.Equal(45, now.GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
        await NoRemindersLeftAsync();
    }

    [Fact]
    public async Task A_reminder_for_a_change_that_never_committed_tells_nothing()
    {
        var (tenant, subject, _) = await TenantWithEndpointAsync();
        var writer = await WriterOfAsync(subject);
        var other = _cluster.Api.Single(replica => replica != writer);

        // The replica stops before its write reaches the store: its reminder was registered, its message never stored.
        writer.Gate.Arm(subject.StateKey, afterCommit: false);
        var consume = other.Client(tenant.ApiKey).SendAsync(Consume("user_1", 5, "k1"));
        await writer.Gate.Reached.WaitAsync(Guard);
        Assert.Single(RemindersLeft());
        await _cluster.StopAsync(writer);
        Assert.Equal(HttpStatusCode.InternalServerError, (await consume).StatusCode);

        _cluster.Clock.Advance(Licenzy.Api.Webhooks.OutboundReminders.Grace + TimeSpan.FromSeconds(1));
        await NoRemindersLeftAsync();
        Assert.Empty(_receiver.At("/hook"));
        Assert.Equal(50, (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Fact]
    public async Task A_retry_the_stopped_replica_was_waiting_for_is_made_by_the_replica_left()
    {
        var (tenant, subject, endpointId) = await TenantWithEndpointAsync();
        var writer = await WriterOfAsync(subject);
        _receiver.AnswerStatus("/hook", 500);

        var consume = await writer.Client(tenant.ApiKey).SendAsync(Consume("user_1", 5, "k1"));
        Assert.Equal(HttpStatusCode.OK, consume.StatusCode);
        var failed = await tenant.WaitForAttemptsAsync(endpointId, 1);
        Assert.Equal("pending", failed.GetProperty("status").GetString());
        var retryAt = failed.GetProperty("next_attempt_at").GetDateTimeOffset();
        await _cluster.StopAsync(writer);
        _receiver.AnswerStatus("/hook", 200);

        _cluster.Clock.Advance(retryAt - _cluster.Clock.GetUtcNow() + Licenzy.Api.Webhooks.OutboundReminders.Grace + TimeSpan.FromSeconds(1));
        var delivered = await tenant.WaitForDeliveryAsync(endpointId, d => d.GetProperty("status").GetString() == "delivered", "delivered");
        Assert.Equal(2, delivered.GetProperty("attempts").GetInt32());
        Assert.Equal(2, _receiver.At("/hook").Count());
        await NoRemindersLeftAsync();
    }

    [Fact]
    public async Task Reminders_go_once_their_work_is_done()
    {
        var (tenant, _, endpointId) = await TenantWithEndpointAsync();

        var consume = await tenant.Runtime.SendAsync(Consume("user_1", 5, "k1"));
        Assert.Equal(HttpStatusCode.OK, consume.StatusCode);
        await tenant.WaitForDeliveryAsync(endpointId, d => d.GetProperty("status").GetString() == "delivered", "delivered");

        await NoRemindersLeftAsync();
        Assert.Single(_receiver.At("/hook"));
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Api.Subjects;
using Licenzy.Domain;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

/// <summary>
/// Two Api and two Ingest replicas behind one Dapr sidecar double, as on Kubernetes: what one
/// subject's actor guarantees must hold whichever replica a request reaches, and when a replica goes.
/// Each test has a cluster of its own, because one of them stops a replica.
/// </summary>
public sealed class ReplicaTests : IAsyncLifetime
{
    private readonly DaprCluster _cluster = new();

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    private static HttpRequestMessage Consume(string subjectRef, int units, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/usage/consume") { Content = JsonContent.Create(new { subject_ref = subjectRef, units }) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    private static async Task<long> RemainingAsync(TestTenant tenant, string subjectRef) =>
        (await tenant.EntitlementsAsync(subjectRef)).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64();

    [Fact]
    public async Task Parallel_consumes_over_both_api_replicas_spend_exactly_what_there_is()
    {
        var tenant = await TestTenant.CreateAsync(_cluster);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        // The runtime client sends each request to the next Api replica: half of them reach each.
        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => tenant.Runtime.SendAsync(Consume("user_1", 1, $"k{i}"))));

        Assert.Equal(50, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(150, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(0, await RemainingAsync(tenant, "user_1"));
    }

    [Fact]
    public async Task A_webhook_delivered_to_both_ingest_replicas_at_once_applies_once()
    {
        var tenant = await TestTenant.CreateAsync(_cluster);
        var session = await tenant.StartCheckoutAsync("user_1", TestTenant.Credits);
        var body = StripeEvents.CheckoutSession("checkout.session.completed", tenant.NextEventId(), _cluster.Clock.GetUtcNow(), session, "paid");

        var answers = await Task.WhenAll(_cluster.Ingest.Select(async replica =>
        {
            var response = await replica.Client("none").SendAsync(tenant.WebhookRequest(body));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }));
        await _cluster.Deliveries.WaitAsync(Licenzy.Infrastructure.Topics.BillingEvents, JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!);

        // Exactly one replica stored (and so published) it; the other saw a repeat.
        Assert.Single(answers, answer => !answer.GetProperty("duplicate").GetBoolean());
        var entitlements = await tenant.EntitlementsAsync("user_1");
        Assert.Equal(1, entitlements.GetProperty("version").GetInt64());
        Assert.Equal(50, entitlements.GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_replica_stopped_mid_turn_loses_nothing_that_was_answered(bool afterCommit)
    {
        var tenant = await TestTenant.CreateAsync(_cluster);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        var subject = new SubjectKey(tenant.TenantId, Mode.Test, "user_1");
        var hostName = await _cluster.Sidecar.PlacementOfAsync(SubjectActor.ActorType, subject.ActorId);
        var host = _cluster.Api.Single(replica => replica.Name == hostName);
        var other = _cluster.Api.Single(replica => replica != host);

        // The replica hosting the subject's actor stops in the middle of a consume turn: before its
        // write reached the store, or after the store committed it but before anyone was answered.
        host.Gate.Arm(subject.StateKey, afterCommit);
        var runtime = other.Client(tenant.ApiKey);
        var first = Enumerable.Range(0, 20).Select(i => runtime.SendAsync(Consume("user_1", 1, $"k{i}"))).ToList();
        await host.Gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        await _cluster.StopAsync(host);
        var answered = await Task.WhenAll(first);

        // Callers whose turn died with the replica got an error, never a false success; the rest were answered.
        Assert.All(answered, response => Assert.Contains(response.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.InternalServerError }));
        Assert.Contains(answered, response => response.StatusCode == HttpStatusCode.InternalServerError);
        var okFirst = Enumerable.Range(0, 20).Where(i => answered[i].StatusCode == HttpStatusCode.OK).ToList();

        // Retried with the same keys, the actor now lives on the replica left: the answers come, once each.
        var retried = new Dictionary<int, HttpResponseMessage>();
        foreach (var i in Enumerable.Range(0, 20).Except(okFirst)) retried[i] = await runtime.SendAsync(Consume("user_1", 1, $"k{i}"));
        Assert.All(retried.Values, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        // A turn committed before the replica died answers its retries as replays: spent once, told twice.
        Assert.Equal(afterCommit, retried.Values.Any(response => response.Headers.Contains("Idempotent-Replayed")));

        Assert.Equal(30, await RemainingAsync(tenant, "user_1"));
        Assert.Equal(other.Name, await _cluster.Sidecar.PlacementOfAsync(SubjectActor.ActorType, subject.ActorId));
        // Every answered key replays what it was told.
        foreach (var i in okFirst)
        {
            var replay = await runtime.SendAsync(Consume("user_1", 1, $"k{i}"));
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.True(replay.Headers.Contains("Idempotent-Replayed"));
        }
        Assert.Equal(30, await RemainingAsync(tenant, "user_1"));
    }
}

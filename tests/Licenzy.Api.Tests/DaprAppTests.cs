using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

/// <summary>What the Api app serves its sidecar, as Dapr expects it.</summary>
public sealed class DaprAppTests(DaprLicenzyApp app) : IClassFixture<DaprLicenzyApp>
{
    private HttpClient Sidecar()
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Add("dapr-api-token", LicenzyApp.AppApiToken);
        return client;
    }

    [Fact]
    public async Task It_subscribes_to_billing_events_with_a_dead_letter_topic()
    {
        var subscriptions = await Sidecar().GetFromJsonAsync<JsonElement>("/dapr/subscribe");

        var billing = subscriptions.EnumerateArray().Single(s => s.GetProperty("topic").GetString() == "billing-events");
        Assert.Equal("licenzy-pubsub", billing.GetProperty("pubsubName").GetString());
        Assert.Equal("billing-events-dead-letter", billing.GetProperty("deadLetterTopic").GetString());
        Assert.Equal("dapr/topics/billing-events", billing.GetProperty("route").GetString());
    }

    [Fact]
    public async Task It_hosts_the_subject_actor_and_the_outbound_work_actor()
    {
        var config = await Sidecar().GetFromJsonAsync<JsonElement>("/dapr/config");

        // The subject's writer, and the actor whose reminders take up outbound webhook work (decision 016).
        Assert.Equal(["OutboundWork", "SubjectActor"], config.GetProperty("entities").EnumerateArray().Select(e => e.GetString()).Order());
        // The host's settings, as decision 011 sets them: idle after 10 minutes, a moved actor's turn
        // drains for up to the call timeout, one turn at a time (no reentrancy).
        Assert.Equal("0h10m0s0ms", config.GetProperty("actorIdleTimeout").GetString());
        Assert.Equal("0h0m15s0ms", config.GetProperty("drainOngoingCallTimeout").GetString());
        Assert.True(config.GetProperty("drainRebalancedActors").GetBoolean());
        Assert.False(config.GetProperty("reentrancy").GetProperty("enabled").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await Sidecar().DeleteAsync("/actors/SubjectActor/ten_x%7Ctest%7Cu1")).StatusCode);
    }

    [Fact]
    public async Task Calls_from_the_sidecar_need_the_app_token()
    {
        var noToken = app.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await noToken.GetAsync("/dapr/subscribe")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await noToken.GetAsync("/dapr/config")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await noToken.PutAsync("/actors/SubjectActor/x/method/apply", Problems.Json("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await noToken.PostAsync("/dapr/topics/billing-events", Problems.Json("{}"))).StatusCode);
    }

    [Fact]
    public async Task Every_call_to_the_sidecar_carries_the_api_token()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        Assert.True(await tenant.IsAllowedAsync("user_1"));
        Assert.Equal(0, app.Sidecar!.Refused);
    }

    [Fact]
    public async Task Readiness_includes_the_sidecar()
    {
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().GetAsync("/readyz")).StatusCode);
    }

    [Fact]
    public async Task An_unreadable_delivery_is_dropped_not_retried()
    {
        var response = await Sidecar().PostAsync("/dapr/topics/billing-events", Problems.Json("not a cloud event"));

        Assert.Equal("DROP", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }
}

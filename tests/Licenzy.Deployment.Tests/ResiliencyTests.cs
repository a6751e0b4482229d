using System.Text.Json.Nodes;
using Licenzy.Api.Subjects;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.Dapr;

namespace Licenzy.Deployment.Tests;

/// <summary>The sidecars' timeouts and retries: present where Licenzy needs them, and consistent.</summary>
public sealed class ResiliencyTests
{
    public static TheoryData<string> Environments => ComponentTests.Environments;

    private static ResiliencySpec Of(string environment)
    {
        var specs = DaprResources.Named(environment).OfKind("Resiliency").ToList();
        Assert.True(specs.Count == 1, $"{DaprResources.Named(environment)} needs exactly one Resiliency spec; it has {specs.Count}.");
        return new ResiliencySpec(specs[0]);
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void The_resiliency_spec_is_scoped_to_the_apps(string environment)
    {
        var spec = Of(environment);
        Assert.Equal(AppIds.All, Yaml.Strings(spec.Document.Root["scopes"]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Local_and_kubernetes_apply_the_same_policies()
    {
        var local = Of("local").Document.Root;
        var kubernetes = Of("kubernetes").Document.Root;
        Assert.Equal(local["metadata"]?["name"]?.ToJsonString(), kubernetes["metadata"]?["name"]?.ToJsonString());
        Assert.True(JsonNode.DeepEquals(local["spec"], kubernetes["spec"]),
            "components/local/resiliency.yaml and components/kubernetes/resiliency.yaml differ in spec.");
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void Every_policy_a_target_names_exists(string environment)
    {
        var spec = Of(environment);
        var targets = spec.Spec["targets"] as JsonObject ?? [];
        var named = new List<JsonObject>();
        foreach (var (_, target) in targets["actors"] as JsonObject ?? []) named.Add((JsonObject)target!);
        foreach (var (_, component) in targets["components"] as JsonObject ?? [])
            foreach (var (_, direction) in (JsonObject)component!) named.Add((JsonObject)direction!);
        var policies = spec.Spec["policies"] as JsonObject ?? [];
        foreach (var target in named)
        {
            AssertNamed(spec, target, "timeout", policies["timeouts"]);
            AssertNamed(spec, target, "retry", policies["retries"]);
            AssertNamed(spec, target, "circuitBreaker", policies["circuitBreakers"]);
        }
        // Targets may only name Licenzy's components.
        var components = DaprResources.Named(environment).Components.Select(c => c.Name).ToHashSet();
        foreach (var (name, _) in targets["components"] as JsonObject ?? [])
            Assert.True(components.Contains(name), $"{spec.Document} targets component {name}, which {DaprResources.Named(environment)} does not define.");
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void Billing_event_deliveries_are_retried_with_backoff_before_they_are_dead_lettered(string environment)
    {
        var spec = Of(environment);
        var inbound = spec.ComponentTarget(Components.PubSub, "inbound")
            ?? throw new Xunit.Sdk.XunitException($"{spec.Document} has no inbound policy for {Components.PubSub}.");
        var retry = spec.Retries[Yaml.Text(inbound["retry"]) ?? ""] as JsonObject
            ?? throw new Xunit.Sdk.XunitException($"{spec.Document}: the inbound {Components.PubSub} target has no retry policy.");
        Assert.Equal("exponential", Yaml.Text(retry["policy"]));
        // Finite, or Dapr would never hand a failing message to billing-events-dead-letter.
        var retries = ResiliencySpec.MaxRetries(retry);
        Assert.True(retries is > 0 and <= 20, $"The delivery retry policy must retry a few times and then stop; maxRetries is {retries}.");
        Assert.NotNull(inbound["timeout"]);
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void State_stores_and_actor_calls_have_timeouts_and_retries(string environment)
    {
        var spec = Of(environment);
        foreach (var store in new[] { Components.StateStore, Components.EventStore })
        {
            var outbound = spec.ComponentTarget(store, "outbound") ?? throw new Xunit.Sdk.XunitException($"{spec.Document} has no outbound policy for {store}.");
            Assert.NotNull(outbound["timeout"]);
            Assert.NotNull(outbound["retry"]);
        }
        var actor = spec.ActorTarget(SubjectActor.ActorType) ?? throw new Xunit.Sdk.XunitException($"{spec.Document} has no policy for the actor type {SubjectActor.ActorType}.");
        Assert.NotNull(actor["timeout"]);
        Assert.NotNull(actor["retry"]);
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void The_sidecar_gives_up_before_the_app_stops_waiting_for_it(string environment)
    {
        var spec = Of(environment);
        var appTimeout = new DaprOptions().CallTimeout;
        var publish = spec.WorstCase(spec.ComponentTarget(Components.PubSub, "outbound")
            ?? throw new Xunit.Sdk.XunitException($"{spec.Document} has no outbound policy for {Components.PubSub}."));
        var calls = new Dictionary<string, TimeSpan>
        {
            [Components.StateStore] = spec.WorstCase(spec.ComponentTarget(Components.StateStore, "outbound")!),
            // Ingest's transaction on the event store also publishes the outbox message.
            [Components.EventStore] = spec.WorstCase(spec.ComponentTarget(Components.EventStore, "outbound")!) + publish,
            [SubjectActor.ActorType] = spec.WorstCase(spec.ActorTarget(SubjectActor.ActorType)!),
        };
        foreach (var (target, worstCase) in calls)
            Assert.True(worstCase < appTimeout,
                $"{target}: the sidecar may take {worstCase} with its retries, longer than the app waits for it (Licenzy:Dapr:CallTimeout, {appTimeout}).");
    }

    private static void AssertNamed(ResiliencySpec spec, JsonObject target, string kind, JsonNode? policies)
    {
        var name = Yaml.Text(target[kind]);
        if (name is null) return;
        Assert.True(policies is JsonObject known && known.ContainsKey(name), $"{spec.Document} names {kind} policy '{name}', which it does not define.");
    }
}

using System.Reflection;
using Licenzy.Infrastructure;

namespace Licenzy.Deployment.Tests;

/// <summary>
/// The component files of both environments use exactly the names in <see cref="Components"/>,
/// and each component is configured for what Licenzy does with it.
/// </summary>
public sealed class ComponentTests
{
    public static TheoryData<string> Environments => new() { "local", "kubernetes" };

    /// <summary>Every name in Components, read by reflection so that a new constant is checked too.</summary>
    private static IReadOnlyList<string> ComponentNames { get; } = typeof(Components)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(field => field.IsLiteral && field.FieldType == typeof(string))
        .Select(field => (string)field.GetRawConstantValue()!)
        .ToList();

    [Theory]
    [MemberData(nameof(Environments))]
    public void Every_component_is_named_by_a_constant_or_is_a_secret_store(string environment)
    {
        // Secret stores are the exception: the apps never call them, only components do.
        foreach (var component in DaprResources.Named(environment).Components.Where(c => !c.IsSecretStore))
            Assert.True(ComponentNames.Contains(component.Name),
                $"{component} is not one of the names in Licenzy.Infrastructure.Components ({string.Join(", ", ComponentNames)}).");
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void Each_constant_has_exactly_one_component(string environment)
    {
        var resources = DaprResources.Named(environment);
        foreach (var name in ComponentNames)
        {
            var count = resources.Components.Count(component => component.Name == name);
            Assert.True(count == 1, $"{resources} has {count} components named {name}; it needs exactly one.");
        }
    }

    [Fact]
    public void A_name_is_the_same_building_block_in_both_environments()
    {
        foreach (var name in ComponentNames)
        {
            var local = DaprResources.Local.Component(name);
            var kubernetes = DaprResources.Kubernetes.Component(name);
            Assert.True(BuildingBlock(local.Type) == BuildingBlock(kubernetes.Type),
                $"{name} is a {local.Type} locally but a {kubernetes.Type} in Kubernetes.");
            Assert.Equal(local.Scopes.Order(), kubernetes.Scopes.Order());
        }
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void Every_component_is_scoped_to_real_app_ids_only(string environment)
    {
        foreach (var component in DaprResources.Named(environment).Components)
        {
            Assert.True(component.Scopes.Count > 0, $"{component} has no scopes, so every app in the namespace would load it.");
            foreach (var scope in component.Scopes)
                Assert.True(AppIds.All.Contains(scope), $"{component} is scoped to '{scope}', which is not an app id ({string.Join(", ", AppIds.All)}).");
        }
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void Each_store_is_scoped_to_the_apps_that_use_it(string environment)
    {
        var resources = DaprResources.Named(environment);
        // Ingest reads tenants' Stripe connections from the state store; only Ingest stores events.
        Assert.Equal([AppIds.Api, AppIds.Ingest], resources.Component(Components.StateStore).Scopes.Order());
        Assert.Equal([AppIds.Ingest], resources.Component(Components.EventStore).Scopes);
        Assert.Equal([AppIds.Api, AppIds.Ingest], resources.Component(Components.PubSub).Scopes.Order());
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void The_event_store_publishes_billing_events_through_its_outbox(string environment)
    {
        var events = DaprResources.Named(environment).Component(Components.EventStore);
        Assert.StartsWith("state.", events.Type);
        Assert.Equal(Components.PubSub, events.Value("outboxPublishPubsub"));
        Assert.Equal(Topics.BillingEvents, events.Value("outboxPublishTopic"));
        Assert.NotEqual("true", events.Value("outboxDiscardWhenMissingState"));
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void No_other_store_has_an_outbox(string environment)
    {
        // Every transaction on an outbox store is published, entitlement writes included.
        foreach (var component in DaprResources.Named(environment).Components.Where(c => c.Name != Components.EventStore))
            Assert.True(component.Value("outboxPublishPubsub") is null && component.Value("outboxPublishTopic") is null,
                $"{component} has outbox settings; only {Components.EventStore} may.");
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void The_state_store_is_the_one_actor_state_store(string environment)
    {
        var actorStores = DaprResources.Named(environment).Components
            .Where(component => component.Value("actorStateStore") == "true")
            .Select(component => component.Name)
            .ToList();
        Assert.Equal([Components.StateStore], actorStores);
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void A_store_shared_by_both_apps_does_not_prefix_keys_with_the_app_id(string environment)
    {
        // Dapr's default key prefix is the app id: Ingest would not see the tenants Api wrote.
        foreach (var component in DaprResources.Named(environment).Components.Where(c => c.Type.StartsWith("state.", StringComparison.Ordinal) && c.Scopes.Count > 1))
            Assert.True(component.Value("keyPrefix") is "name" or "none",
                $"{component} is shared by {string.Join(", ", component.Scopes)} but keyPrefix is '{component.Value("keyPrefix") ?? "appid (default)"}'.");
    }

    [Fact]
    public void Locally_every_store_and_the_pubsub_run_on_redis()
    {
        foreach (var component in DaprResources.Local.Components.Where(c => !c.IsSecretStore))
            Assert.True(component.Type is "state.redis" or "pubsub.redis", $"{component} is a {component.Type}, not Redis.");
    }

    [Fact]
    public void In_kubernetes_the_stores_are_postgresql_v2_each_with_tables_of_its_own()
    {
        var stores = DaprResources.Kubernetes.Components.Where(c => c.Type.StartsWith("state.", StringComparison.Ordinal)).ToList();
        Assert.Equal(ComponentNames.Count(name => name != Components.PubSub), stores.Count);
        foreach (var store in stores)
        {
            Assert.Equal("state.postgresql", store.Type);
            Assert.Equal("v2", store.Version);
        }
        // Two stores on one database must not share a table.
        AssertDistinct(stores, "tablePrefix");
        AssertDistinct(stores, "metadataTableName");
    }

    [Fact]
    public void In_kubernetes_the_pubsub_is_a_managed_broker()
    {
        var pubsub = DaprResources.Kubernetes.Component(Components.PubSub);
        Assert.StartsWith("pubsub.", pubsub.Type);
        Assert.NotEqual("pubsub.redis", pubsub.Type);
    }

    [Fact]
    public void Redis_does_not_redeliver_a_message_that_is_still_being_retried()
    {
        var pubsub = DaprResources.Local.Component(Components.PubSub);
        var deliveryWorstCase = InboundWorstCase(DaprResources.Local);
        var processingTimeout = GoDuration.Parse(pubsub.Value("processingTimeout"));
        Assert.True(processingTimeout > deliveryWorstCase,
            $"processingTimeout ({processingTimeout}) must exceed the inbound retry policy's worst case ({deliveryWorstCase}).");
    }

    [Fact]
    public void Service_bus_lets_a_delivery_run_its_whole_retry_policy()
    {
        var pubsub = DaprResources.Kubernetes.Component(Components.PubSub);
        var deliveryWorstCase = InboundWorstCase(DaprResources.Kubernetes);
        var handlerTimeout = GoDuration.Parse(pubsub.Value("handlerTimeoutInSec"));
        Assert.True(handlerTimeout > deliveryWorstCase,
            $"handlerTimeoutInSec ({handlerTimeout}) must exceed the inbound retry policy's worst case ({deliveryWorstCase}).");
    }

    private static TimeSpan InboundWorstCase(DaprResources resources)
    {
        var resiliency = new ResiliencySpec(resources.OfKind("Resiliency").Single());
        return resiliency.WorstCase(resiliency.ComponentTarget(Components.PubSub, "inbound")
            ?? throw new Xunit.Sdk.XunitException($"{resources} has no inbound policy for {Components.PubSub}."));
    }

    private static string BuildingBlock(string type) => type.Split('.')[0];

    private static void AssertDistinct(IReadOnlyList<DaprComponent> stores, string item)
    {
        var values = stores.Select(store => store.Value(item)).ToList();
        Assert.True(values.All(value => !string.IsNullOrEmpty(value)), $"Every Kubernetes state store needs its own {item}.");
        Assert.True(values.Distinct().Count() == values.Count, $"The Kubernetes state stores share a {item}: {string.Join(", ", values)}.");
    }
}

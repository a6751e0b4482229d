namespace Licenzy.Infrastructure;

/// <summary>
/// The names of the building blocks, in one place. The Dapr component YAML under components/
/// uses exactly these names; a test checks that they do not drift apart.
/// </summary>
public static class Components
{
    /// <summary>Entitlement state, tenants, products, keys, idempotency records.</summary>
    public const string StateStore = "licenzy-state";

    /// <summary>Received Stripe events. An outbox store: every write to it is also published.</summary>
    public const string EventStore = "licenzy-events";

    public const string PubSub = "licenzy-pubsub";
}

public static class Topics
{
    public const string BillingEvents = "billing-events";
    public const string BillingEventsDeadLetter = "billing-events-dead-letter";
}

using System.Text.Json.Nodes;
using Licenzy.Sandbox.Account;

namespace Licenzy.Sandbox.Wire;

/// <summary>Stripe's event envelope around an object, as a webhook endpoint receives it.</summary>
public static class StripeEventJson
{
    /// <summary>
    /// An event of <paramref name="type"/> about <paramref name="dataObject"/>, written in the shapes
    /// of <paramref name="version"/>. Stripe adds <paramref name="previousAttributes"/> (the changed
    /// fields' old values) to updates.
    /// </summary>
    public static SandboxEvent Create(
        string type, JsonObject dataObject, DateTimeOffset created, StripeApiVersion version, JsonObject? previousAttributes = null)
    {
        var id = StripeIds.New("evt");
        var data = new JsonObject { ["object"] = dataObject };
        if (previousAttributes is not null) data["previous_attributes"] = previousAttributes;
        var envelope = new JsonObject
        {
            ["id"] = id,
            ["object"] = "event",
            ["api_version"] = version.Name,
            ["created"] = StripeObjectJson.Unix(created),
            ["data"] = data,
            ["livemode"] = false,
            ["pending_webhooks"] = 1,
            // Events caused by Stripe itself (a renewal, a dispute) carry no API request.
            ["request"] = new JsonObject { ["id"] = null, ["idempotency_key"] = null },
            ["type"] = type,
        };
        return new SandboxEvent(id, type, envelope.ToJsonString());
    }
}

using System.Text.Json.Nodes;
using Licenzy.Sandbox.Account;

namespace Licenzy.Sandbox.Wire;

/// <summary>Stripe's event envelope around an object, as a webhook endpoint receives it.</summary>
public static class StripeEventJson
{
    /// <summary>The first API version of the shapes the sandbox sends (invoice <c>parent</c> and <c>payments</c>, item periods).</summary>
    public const string ApiVersion = "2025-03-31.basil";

    /// <summary>
    /// An event of <paramref name="type"/> about <paramref name="dataObject"/>. Stripe adds
    /// <paramref name="previousAttributes"/> (the changed fields' old values) to updates.
    /// </summary>
    public static SandboxEvent Create(string type, JsonObject dataObject, DateTimeOffset created, JsonObject? previousAttributes = null)
    {
        var id = StripeIds.New("evt");
        var data = new JsonObject { ["object"] = dataObject };
        if (previousAttributes is not null) data["previous_attributes"] = previousAttributes;
        var envelope = new JsonObject
        {
            ["id"] = id,
            ["object"] = "event",
            ["api_version"] = ApiVersion,
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

using System.Text.Json;
using System.Text.Json.Nodes;

namespace Licenzy.Stripe.Tests;

/// <summary>The Stripe fixtures in Payloads/, copied to the test output, and event envelopes around them.</summary>
internal static class Payload
{
    /// <summary>A payload file as an editable JSON tree.</summary>
    public static JsonObject Read(string file) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", file)))!.AsObject();

    /// <summary>The object of a webhook data file (<c>{"object": {...}}</c>) or of a bare object file.</summary>
    public static JsonObject Object(string file)
    {
        var json = Read(file);
        return json["object"] is JsonObject inner ? inner : json;
    }

    public static JsonElement Element(JsonNode node) => JsonSerializer.SerializeToElement(node);

    /// <summary>An event envelope as Stripe posts it, around a <c>data</c> member.</summary>
    public static string Event(string type, JsonObject data, string id = "evt_test_1", long created = 1_745_433_962,
        string? apiVersion = "2025-03-31.basil") =>
        new JsonObject
        {
            ["id"] = id,
            ["object"] = "event",
            ["api_version"] = apiVersion,
            ["created"] = created,
            ["type"] = type,
            ["livemode"] = false,
            ["pending_webhooks"] = 1,
            ["data"] = data,
        }.ToJsonString();
}

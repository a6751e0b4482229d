using System.Text.Json;
using System.Text.Json.Nodes;
using StripeNet = global::Stripe;

namespace Licenzy.Stripe;

/// <summary>
/// Reads Stripe objects into Stripe.net's types. Stripe.net reads an object whole or not at all,
/// and a tenant's endpoint may be pinned to an API version whose shape differs from the one
/// Stripe.net knows: one member of a kind its type does not expect would lose the whole event. So
/// when the whole does not read, the members Stripe.net cannot read are left out, one by one
/// (within an object or list, as deep as needed), and the rest is read. What a version keeps where
/// Stripe.net's types have no field is read from the JSON by the caller (<see cref="StripeJson"/>).
/// </summary>
internal static class StripeObjects
{
    private static JsonSerializerOptions Options => StripeNet.StripeConfiguration.SerializerOptions;

    /// <summary>An object with an id, as <typeparamref name="T"/>; <paramref name="what"/> names it in errors.</summary>
    public static T Read<T>(JsonElement json, string what) where T : StripeNet.StripeEntity, StripeNet.IHasId
    {
        if (json.ValueKind != JsonValueKind.Object) throw new StripePayloadException($"{what} is not a JSON object");
        var read = TryRead<T>(json) ?? ReadWhatCanBeRead<T>(json, what);
        return string.IsNullOrEmpty(read.Id) ? throw new StripePayloadException($"{what} has no id") : read;
    }

    private static T ReadWhatCanBeRead<T>(JsonElement json, string what) where T : StripeNet.StripeEntity
    {
        JsonObject readable;
        try
        {
            readable = (JsonObject)Readable<T>(JsonObject.Create(json)!, inner => (JsonObject)inner);
        }
        catch (ArgumentException)
        {
            // JsonObject refuses a member name that repeats; Stripe never sends one.
            throw new StripePayloadException($"{what} repeats a member name");
        }

        return TryRead<T>(JsonSerializer.SerializeToElement(readable))
               ?? throw new StripePayloadException($"{what} cannot be read as a Stripe object");
    }

    /// <summary>
    /// What of <paramref name="node"/> <typeparamref name="T"/> can read. <paramref name="inDocument"/>
    /// puts a stand-in for the node where the node is in a document otherwise empty, so that each
    /// member is tried on its own, at its own place.
    /// </summary>
    private static JsonNode Readable<T>(JsonNode node, Func<JsonNode, JsonObject> inDocument) where T : StripeNet.StripeEntity
    {
        if (node is JsonArray array)
        {
            var items = new JsonArray();
            foreach (var item in array)
            {
                if (Keep<T>(item, part => inDocument(new JsonArray(part))) is { } kept) items.Add(kept);
            }

            return items;
        }

        var members = new JsonObject();
        foreach (var (name, value) in (JsonObject)node)
        {
            if (Keep<T>(value, part => inDocument(new JsonObject { [name] = part })) is { } kept) members[name] = kept;
        }

        return members;
    }

    /// <summary>The value as it is, or what of it can be read, or nothing (null) when none of it can.</summary>
    private static JsonNode? Keep<T>(JsonNode? value, Func<JsonNode, JsonObject> inDocument) where T : StripeNet.StripeEntity
    {
        // A JSON null says no more than a missing member.
        if (value is null) return null;
        if (Reads<T>(inDocument(value.DeepClone()))) return value.DeepClone();
        if (value is not (JsonObject or JsonArray)) return null;
        var part = Readable<T>(value, inDocument);
        return Reads<T>(inDocument(part.DeepClone())) ? part : null;
    }

    private static bool Reads<T>(JsonObject document) where T : StripeNet.StripeEntity =>
        TryRead<T>(JsonSerializer.SerializeToElement(document)) is not null;

    private static T? TryRead<T>(JsonElement json) where T : StripeNet.StripeEntity
    {
        try
        {
            return json.Deserialize<T>(Options);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // JsonException for a kind the type does not expect; the others from Stripe.net's own
            // converters, which parse some values themselves.
            return null;
        }
    }
}

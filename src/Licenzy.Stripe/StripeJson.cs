using System.Collections.ObjectModel;
using System.Text.Json;

namespace Licenzy.Stripe;

/// <summary>
/// Tolerant reads of Stripe JSON. A missing member, a JSON null or a value of an unexpected kind
/// all read as "absent", because Stripe adds, drops and moves fields between API versions.
/// </summary>
internal static class StripeJson
{
    public static readonly IReadOnlyDictionary<string, string> NoMetadata =
        ReadOnlyDictionary<string, string>.Empty;

    // The range DateTimeOffset can represent; anything outside is not a real Stripe time.
    private const long MinUnixSeconds = -62_135_596_800;
    private const long MaxUnixSeconds = 253_402_300_799;

    public static JsonElement? ReadMember(this JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object
        && obj.TryGetProperty(name, out var value)
        && value.ValueKind != JsonValueKind.Null
            ? value
            : null;

    public static JsonElement? ReadObject(this JsonElement obj, string name) =>
        obj.ReadMember(name) is { ValueKind: JsonValueKind.Object } value ? value : null;

    public static string? ReadString(this JsonElement obj, string name) =>
        obj.ReadMember(name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    public static long? ReadLong(this JsonElement obj, string name) =>
        obj.ReadMember(name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt64(out var number)
            ? number
            : null;

    public static bool ReadBool(this JsonElement obj, string name) =>
        obj.ReadMember(name)?.ValueKind == JsonValueKind.True;

    public static DateTimeOffset? ReadTime(this JsonElement obj, string name) =>
        obj.ReadLong(name) is { } seconds and >= MinUnixSeconds and <= MaxUnixSeconds
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    /// <summary>An expandable field: either the id itself or the expanded object carrying it.</summary>
    public static string? ReadId(this JsonElement obj, string name) => obj.ReadMember(name) switch
    {
        { ValueKind: JsonValueKind.String } id => id.GetString(),
        { ValueKind: JsonValueKind.Object } expanded => expanded.ReadString("id"),
        _ => null,
    };

    public static IReadOnlyDictionary<string, string> ReadMetadata(this JsonElement obj, string name = "metadata")
    {
        if (obj.ReadObject(name) is not { } metadata)
        {
            return NoMetadata;
        }

        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in metadata.EnumerateObject())
        {
            // Stripe metadata values are strings; anything else is not metadata Licenzy wrote.
            if (entry.Value.ValueKind == JsonValueKind.String)
            {
                entries[entry.Name] = entry.Value.GetString()!;
            }
        }

        return entries.Count == 0 ? NoMetadata : entries;
    }

    /// <summary>The <c>data</c> array of a Stripe list object such as <c>items</c> or <c>lines</c>.</summary>
    public static IEnumerable<JsonElement> ReadList(this JsonElement obj, string name) =>
        obj.ReadObject(name)?.ReadMember("data") is { ValueKind: JsonValueKind.Array } data
            ? data.EnumerateArray().Where(item => item.ValueKind == JsonValueKind.Object)
            : [];

    /// <summary>Checks that <paramref name="obj"/> is an object with an id; Stripe objects always have one.</summary>
    public static string RequireId(this JsonElement obj, string what)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            throw new StripePayloadException($"{what} is not a JSON object");
        }

        return obj.ReadString("id") is { Length: > 0 } id
            ? id
            : throw new StripePayloadException($"{what} has no id");
    }
}

using System.Collections.ObjectModel;
using System.Text.Json;

namespace Licenzy.Stripe;

/// <summary>
/// Reads of the fields an older Stripe API version keeps where Stripe.net's types have none (an
/// invoice's top-level <c>subscription</c>, a subscription's top-level period, ...). Tolerant: a
/// missing member, a JSON null or a value of an unexpected kind all read as "absent".
/// </summary>
internal static class StripeJson
{
    public static readonly IReadOnlyDictionary<string, string> NoMetadata = ReadOnlyDictionary<string, string>.Empty;

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

    public static DateTimeOffset? ReadTime(this JsonElement obj, string name) =>
        obj.ReadMember(name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt64(out var seconds)
        && seconds is >= MinUnixSeconds and <= MaxUnixSeconds
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;

    /// <summary>An expandable field: either the id itself or the expanded object carrying it.</summary>
    public static string? ReadId(this JsonElement obj, string name) => obj.ReadMember(name) switch
    {
        { ValueKind: JsonValueKind.String } id => id.GetString(),
        { ValueKind: JsonValueKind.Object } expanded when expanded.ReadMember("id") is { ValueKind: JsonValueKind.String } id => id.GetString(),
        _ => null,
    };

    public static IReadOnlyDictionary<string, string> ReadMetadata(this JsonElement obj, string name = "metadata")
    {
        if (obj.ReadObject(name) is not { } metadata) return NoMetadata;
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in metadata.EnumerateObject())
        {
            // Stripe metadata values are strings; anything else is not metadata Licenzy wrote.
            if (entry.Value.ValueKind == JsonValueKind.String) entries[entry.Name] = entry.Value.GetString()!;
        }

        return entries;
    }

    /// <summary>Stripe.net's metadata, without the null values it keeps.</summary>
    public static IReadOnlyDictionary<string, string> Metadata(Dictionary<string, string>? metadata)
    {
        if (metadata is null) return NoMetadata;
        return metadata.Where(entry => entry.Value is not null).ToDictionary(StringComparer.Ordinal);
    }

    /// <summary>
    /// A time from Stripe.net, which reads a missing or null time as the Unix epoch: no Stripe
    /// object was made, paid or ended then, so the epoch reads as "absent".
    /// </summary>
    public static DateTimeOffset? Time(DateTime? value) =>
        value is { } at && at != DateTime.UnixEpoch ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;
}

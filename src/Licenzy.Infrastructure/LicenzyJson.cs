using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Licenzy.Infrastructure;

/// <summary>
/// The one JSON options object: snake_case names and enum values, nulls written (the public
/// contract shows them), numbers strict, instants in UTC with a Z. Used for the public API,
/// stored state and messages alike.
/// </summary>
public static class LicenzyJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>Copies Licenzy's settings onto options owned by someone else (ASP.NET Core's).</summary>
    public static void ApplyTo(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.PropertyNameCaseInsensitive = false;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.Converters.Add(new UtcInstantConverter());
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ApplyTo(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Writes instants as <c>2026-04-01T00:00:00Z</c> (fractions only when there are any).</summary>
    private sealed class UtcInstantConverter : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDateTimeOffset();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
    }
}

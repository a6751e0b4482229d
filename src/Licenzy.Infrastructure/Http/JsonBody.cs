using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Licenzy.Infrastructure.Http;

/// <summary>
/// Reads a request body as one JSON object under API.md's reading rule (media type, size limit,
/// <see cref="JsonRules"/>), and gives typed access to its fields with errors that name the field.
/// Endpoints validate by hand so that every bad input gets the documented code, not a framework's
/// generic 400.
/// </summary>
public sealed class JsonBody
{
    public const int RuntimeLimit = 16 * 1024;
    public const int SetupLimit = 64 * 1024;

    private readonly JsonElement _root;
    // Made on the first error: most bodies have none.
    private Dictionary<string, string[]>? _errors;

    private JsonBody(JsonElement root) => _root = root;

    public static async ValueTask<(JsonBody? Body, ApiError? Error)> ReadAsync(HttpRequest request, int limit, CancellationToken ct)
    {
        if (MediaTypeProblem(request) is { } mediaType) return (null, mediaType);
        if (request.ContentLength > limit) return (null, ApiError.RequestTooLarge(limit));

        // Straight from the connection's buffers: no copy of the body before it is parsed.
        var reader = request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(ct);
            var buffer = read.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.End);
                return (null, ApiError.RequestTooLarge(limit));
            }
            if (!read.IsCompleted)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            try
            {
                return Parse(buffer);
            }
            finally
            {
                reader.AdvanceTo(buffer.End);
            }
        }
    }

    /// <summary>
    /// A body must say it is JSON (a UTF-8 charset may be named). A request that sends no body at
    /// all need not name a type: it is then refused, or taken as empty, by what it lacks.
    /// </summary>
    private static ApiError? MediaTypeProblem(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (string.IsNullOrEmpty(contentType))
        {
            var sendsNoBody = request.ContentLength == 0
                || request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false };
            return sendsNoBody ? null : ApiError.UnsupportedMediaType("The request has a body but no Content-Type; send it as 'Content-Type: application/json'.");
        }
        if (MediaTypeHeaderValue.TryParse(contentType, out var parsed)
            && parsed.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            && (!parsed.Charset.HasValue || HeaderUtilities.RemoveQuotes(parsed.Charset).Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }
        var shown = contentType.Length <= 100 ? contentType : contentType[..100] + "...";
        return ApiError.UnsupportedMediaType($"The body was sent as '{shown}'; send JSON as 'Content-Type: application/json' (UTF-8).");
    }

    private static (JsonBody? Body, ApiError? Error) Parse(ReadOnlySequence<byte> bytes)
    {
        if (bytes.IsEmpty) return (null, ApiError.InvalidRequest("The request body is empty; send a JSON object."));
        // Parsed over the connection's buffers, then cloned: the clone owns its bytes once they are released.
        using var document = JsonRules.Parse(bytes, out var problem);
        if (document is null) return (null, ApiError.InvalidRequest($"The request body is refused: {problem!.Text}."));
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            return (null, ApiError.InvalidRequest($"The request body must be a JSON object, not {Article(document.RootElement.ValueKind)}."));
        return (new JsonBody(document.RootElement.Clone()), null);
    }

    private static string Article(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary>Reads up to <paramref name="limit"/> bytes; says so when there were more.</summary>
    public static async Task<(byte[] Bytes, bool TooLarge)> ReadBytesAsync(Stream body, int limit, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, 64 * 1024));
        try
        {
            using var collected = new MemoryStream();
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                collected.Write(buffer, 0, read);
                if (collected.Length > limit) return ([], true);
            }
            return (collected.ToArray(), false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public bool Has(string name) => _root.TryGetProperty(name, out _);

    public bool HasErrors => _errors is { Count: > 0 };

    public ApiError ValidationError()
    {
        var errors = _errors ?? [];
        return ApiError.InvalidRequest("Some fields are missing or not valid: " + string.Join(", ", errors.Keys) + ".", errors);
    }

    public void AddError(string field, string message) => (_errors ??= new(StringComparer.Ordinal))[field] = [message];

    /// <summary>A string field; null (and an error when required) when absent, null or of another type.</summary>
    public string? String(string name, bool required, int maxLength)
    {
        if (!_root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required) AddError(name, "is required");
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            AddError(name, "must be a string");
            return null;
        }
        var text = value.GetString()!;
        if (text.Length == 0 && required)
        {
            AddError(name, "must not be empty");
            return null;
        }
        if (text.Length > maxLength)
        {
            AddError(name, $"must be at most {maxLength} characters");
            return null;
        }
        return text;
    }

    /// <summary>The raw element, for fields with a code of their own (e.g. units, subject_ref).</summary>
    public JsonElement? Element(string name) =>
        _root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>A whole number field; null when absent.</summary>
    public long? Integer(string name, bool required, long min, long max)
    {
        if (Element(name) is not { } value)
        {
            if (required) AddError(name, "is required");
            return null;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            AddError(name, "must be a whole number");
            return null;
        }
        if (number < min || number > max)
        {
            AddError(name, $"must be between {min} and {max}");
            return null;
        }
        return number;
    }

    /// <summary>A true/false field; null when absent or null.</summary>
    public bool? Boolean(string name)
    {
        if (Element(name) is not { } value) return null;
        if (value.ValueKind is JsonValueKind.True or JsonValueKind.False) return value.GetBoolean();
        AddError(name, "must be true or false");
        return null;
    }

    /// <summary>An array of strings; empty when absent.</summary>
    public IReadOnlyList<string> StringArray(string name, int maxItems, int maxLength)
    {
        if (Element(name) is not { } value) return [];
        if (value.ValueKind != JsonValueKind.Array)
        {
            AddError(name, "must be an array of strings");
            return [];
        }
        var items = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString()!.Length > maxLength)
            {
                AddError(name, $"must be an array of strings of at most {maxLength} characters");
                return [];
            }
            items.Add(item.GetString()!);
        }
        if (items.Count > maxItems)
        {
            AddError(name, $"must have at most {maxItems} items");
            return [];
        }
        return items;
    }

    /// <summary>An absolute http(s) URL of sensible length; null when absent.</summary>
    public string? Url(string name)
    {
        var text = String(name, required: false, maxLength: 2048);
        if (text is null) return null;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            AddError(name, "must be an absolute http or https URL");
            return null;
        }
        return text;
    }
}

using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Licenzy.Infrastructure.Http;

/// <summary>
/// The one reading rule for JSON that comes in (API.md, "Requests"): one JSON value, no deeper
/// than <see cref="MaxDepth"/>, in valid UTF-8, with valid Unicode strings (no unpaired surrogate
/// escapes), and no member name twice in one object. A body that breaks it gets a sentence that
/// says what and where (a JSON path), never an exception from deeper down.
/// </summary>
/// <remarks>
/// System.Text.Json refuses duplicates itself (<see cref="JsonDocumentOptions.AllowDuplicateProperties"/>)
/// but does not check the UTF-8 or the escapes inside strings until a string is read, and then
/// throws <see cref="InvalidOperationException"/>. So a parsed document's strings are checked in
/// place (no string is made), and only a body that fails is read a second time to say where.
/// </remarks>
public static class JsonRules
{
    public const int MaxDepth = 16;

    /// <summary>Stripe's objects nest deeper than request bodies may; this is far past any it sends.</summary>
    public const int StripeEventMaxDepth = 64;

    /// <summary>Parses <paramref name="bytes"/> under the rule; null with the problem when it breaks it.</summary>
    /// <param name="maxDepth">Deeper nesting is refused; Stripe's events, read with this rule too, nest deeper than request bodies.</param>
    public static JsonDocument? Parse(ReadOnlySequence<byte> bytes, out JsonProblem? problem, int maxDepth = MaxDepth)
    {
        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false });
            if (IsValidText(document.RootElement))
            {
                problem = null;
                return document;
            }
        }
        catch (JsonException)
        {
            // Syntax, depth or a duplicate: said below, with where.
        }
        catch (InvalidOperationException)
        {
            // A member name that cannot be decoded, met while comparing names for duplicates.
        }
        document?.Dispose();
        problem = Describe(bytes, maxDepth);
        return null;
    }

    /// <summary>
    /// Whether every string and member name in <paramref name="element"/> is valid UTF-8 without an
    /// unpaired surrogate escape. Only a yes or no: <see cref="Describe"/> finds where, when it is no.
    /// </summary>
    private static bool IsValidText(JsonElement element)
    {
        // foreach, not LINQ: no boxed enumerator on every request body.
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return IsValidText(JsonMarshal.GetRawUtf8Value(element));
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    if (!IsValidText(JsonMarshal.GetRawUtf8PropertyName(member)) || !IsValidText(member.Value)) return false;
                }
                return true;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!IsValidText(item)) return false;
                }
                return true;
            default:
                return true;
        }
    }

    /// <summary>
    /// Raw (still escaped) string bytes: valid UTF-8, and every <c>\uD800-\uDBFF</c> escape followed
    /// by a <c>\uDC00-\uDFFF</c> one, with no low surrogate alone. The escapes are well formed here:
    /// the reader has already checked the syntax.
    /// </summary>
    private static bool IsValidText(ReadOnlySpan<byte> raw)
    {
        if (!Utf8.IsValid(raw)) return false;
        var at = raw.IndexOf((byte)'\\');
        while (at >= 0)
        {
            if (raw[at + 1] != (byte)'u')
            {
                at = Next(raw, at + 2);
                continue;
            }
            var unit = Hex(raw.Slice(at + 2, 4));
            at += 6;
            if (char.IsLowSurrogate(unit)) return false;
            if (char.IsHighSurrogate(unit))
            {
                if (at + 6 > raw.Length || raw[at] != (byte)'\\' || raw[at + 1] != (byte)'u' || !char.IsLowSurrogate(Hex(raw.Slice(at + 2, 4))))
                    return false;
                at += 6;
            }
            at = Next(raw, at);
        }
        return true;

        static int Next(ReadOnlySpan<byte> raw, int from)
        {
            if (from >= raw.Length) return -1;
            var next = raw[from..].IndexOf((byte)'\\');
            return next < 0 ? -1 : from + next;
        }

        static char Hex(ReadOnlySpan<byte> digits) =>
            System.Buffers.Text.Utf8Parser.TryParse(digits, out ushort unit, out _, 'X') ? (char)unit : '\0';
    }

    /// <summary>Reads a body that broke the rule again, token by token, to say what and where.</summary>
    private static JsonProblem Describe(ReadOnlySequence<byte> bytes, int maxDepth)
    {
        // One level more than allowed, so that the depth is this method's to report, with a path.
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = maxDepth + 1 });
        var frames = new List<Frame>();
        try
        {
            while (reader.Read())
            {
                var token = reader.TokenType;
                if (token is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    frames.RemoveAt(frames.Count - 1);
                    continue;
                }
                if (frames.Count > 0 && frames[^1].IsArray && token != JsonTokenType.PropertyName) frames[^1].Index++;
                switch (token)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        if (reader.CurrentDepth >= maxDepth) return new(Path(frames), $"it nests deeper than {maxDepth} levels at {Path(frames)}");
                        frames.Add(new Frame(token == JsonTokenType.StartArray));
                        break;
                    case JsonTokenType.PropertyName:
                        if (TextProblem(ref reader) is { } nameProblem) return new(Path(frames, inner: false), $"a member name in {Path(frames, inner: false)} {nameProblem}");
                        var name = reader.GetString()!;
                        var frame = frames[^1];
                        if (!frame.Names.Add(name)) return new(Path(frames, inner: false), $"the member '{Shorten(name)}' appears twice in {Path(frames, inner: false)}; send each member once");
                        frame.Name = name;
                        break;
                    case JsonTokenType.String:
                        if (TextProblem(ref reader) is { } valueProblem) return new(Path(frames), $"the string at {Path(frames)} {valueProblem}");
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            var reason = e.Message.Split(" LineNumber:", 2)[0].TrimEnd();
            return new(null, $"it is not valid JSON: {reason} (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
        }
        return new(null, "it is not valid JSON");
    }

    private static string? TextProblem(ref Utf8JsonReader reader)
    {
        var raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
        if (!Utf8.IsValid(raw)) return "is not valid UTF-8";
        return IsValidText(raw) ? null : "holds an unpaired surrogate escape (strings must be valid Unicode)";
    }

    /// <summary>Where the reader is; without <paramref name="inner"/>, the object or array it is in.</summary>
    private static string Path(List<Frame> frames, bool inner = true)
    {
        var path = new StringBuilder("$");
        for (var i = 0; i < (inner ? frames.Count : frames.Count - 1); i++)
        {
            var frame = frames[i];
            if (frame.IsArray)
            {
                if (frame.Index >= 0) path.Append('[').Append(frame.Index).Append(']');
            }
            else if (frame.Name is not null)
            {
                path.Append(Member(frame.Name));
            }
        }
        return path.ToString();
    }

    private static string Member(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? "." + name : "['" + Shorten(name) + "']";

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "...";

    private sealed class Frame(bool isArray)
    {
        public bool IsArray { get; } = isArray;
        public int Index { get; set; } = -1;
        public string? Name { get; set; }
        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>What is wrong with a JSON input, and the JSON path where (null when the syntax is broken).</summary>
public sealed record JsonProblem(string? Path, string Text)
{
    /// <summary>Whether the problem lies inside <paramref name="path"/> (e.g. <c>$.data</c>) or at it.</summary>
    public bool IsWithin(string path) =>
        Path is not null && Path.StartsWith(path, StringComparison.Ordinal)
        && (Path.Length == path.Length || Path[path.Length] is '.' or '[');

    public override string ToString() => Text;
}

using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Licenzy.Deployment.Tests;

/// <summary>One document of a YAML file, as JSON, so that tests can walk it with JsonNode.</summary>
public sealed record YamlDocument(string File, int Index, JsonObject Root)
{
    public string? ApiVersion => Yaml.Text(Root["apiVersion"]);
    public string? Kind => Yaml.Text(Root["kind"]);
    public string? Name => Yaml.Text(Root["metadata"]?["name"]);

    public override string ToString() => $"{Repository.Relative(File)}#{Index} ({Kind} {Name})";
}

/// <summary>
/// Reads YAML into JsonNode. Plain scalars are typed the way Kubernetes and Dapr read them
/// (YAML 1.2 core schema: null, booleans, numbers); quoted scalars stay strings.
/// </summary>
public static partial class Yaml
{
    public static IReadOnlyList<YamlDocument> Load(string file)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(file)))
        {
            try
            {
                stream.Load(reader);
            }
            catch (YamlException e)
            {
                throw new InvalidDataException($"{Repository.Relative(file)} is not valid YAML: {e.Message}", e);
            }
        }
        var documents = new List<YamlDocument>();
        for (var i = 0; i < stream.Documents.Count; i++)
        {
            var node = ToJson(stream.Documents[i].RootNode);
            if (node is null) continue;
            documents.Add(new YamlDocument(file, i, node as JsonObject
                ?? throw new InvalidDataException($"{Repository.Relative(file)} document {i} is not a mapping.")));
        }
        return documents;
    }

    public static IReadOnlyList<YamlDocument> LoadAll(IEnumerable<string> files) => files.SelectMany(Load).ToList();

    /// <summary>A scalar as the string Dapr and Kubernetes see ("true" for true, "8080" for 8080).</summary>
    public static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonValue value when value.TryGetValue<bool>(out var flag) => flag ? "true" : "false",
        JsonValue value => value.ToJsonString(),
        _ => null,
    };

    public static IEnumerable<JsonObject> Objects(JsonNode? node) =>
        node is JsonArray array ? array.OfType<JsonObject>() : [];

    public static IEnumerable<string> Strings(JsonNode? node) =>
        node is JsonArray array ? array.Select(Text).OfType<string>() : [];

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => ToObject(mapping),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidDataException($"Unsupported YAML node at {node.Start}."),
    };

    private static JsonObject ToObject(YamlMappingNode mapping)
    {
        var result = new JsonObject();
        foreach (var (key, value) in mapping.Children)
        {
            var name = ((YamlScalarNode)key).Value ?? "";
            if (result.ContainsKey(name))
                throw new InvalidDataException($"Duplicate key '{name}' at {key.Start}.");
            result[name] = ToJson(value);
        }
        return result;
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any)) return JsonValue.Create(text);
        if (text is "" or "~" or "null" or "Null" or "NULL") return null;
        if (text is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (text is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (Integer().IsMatch(text)) return JsonValue.Create(long.Parse(text, CultureInfo.InvariantCulture));
        if (Float().IsMatch(text)) return JsonValue.Create(double.Parse(text, CultureInfo.InvariantCulture));
        return JsonValue.Create(text);
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}

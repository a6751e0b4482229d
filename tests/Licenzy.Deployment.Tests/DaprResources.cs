using System.Text.Json.Nodes;

namespace Licenzy.Deployment.Tests;

/// <summary>The Dapr resources of one environment: a folder under components/.</summary>
public sealed class DaprResources
{
    public static DaprResources Local { get; } = new("local", "components/local");
    public static DaprResources Kubernetes { get; } = new("kubernetes", "components/kubernetes");

    public static DaprResources Named(string environment) => environment switch
    {
        "local" => Local,
        "kubernetes" => Kubernetes,
        _ => throw new ArgumentOutOfRangeException(nameof(environment), environment, null),
    };

    private DaprResources(string environment, string folder)
    {
        Environment = environment;
        Folder = folder;
        Documents = Yaml.LoadAll(Repository.YamlFilesIn(folder))
            .Where(document => document.ApiVersion?.StartsWith("dapr.io/", StringComparison.Ordinal) == true)
            .ToList();
        Components = Documents.Where(document => document.Kind == "Component").Select(document => new DaprComponent(document)).ToList();
    }

    public string Environment { get; }
    public string Folder { get; }
    public IReadOnlyList<YamlDocument> Documents { get; }
    public IReadOnlyList<DaprComponent> Components { get; }

    public IEnumerable<YamlDocument> OfKind(string kind) => Documents.Where(document => document.Kind == kind);

    public DaprComponent Component(string name) =>
        Components.SingleOrDefault(component => component.Name == name)
        ?? throw new Xunit.Sdk.XunitException($"{Folder} has no component named {name}.");

    public override string ToString() => Folder;
}

/// <summary>A Dapr Component document, with its metadata items by name.</summary>
public sealed class DaprComponent(YamlDocument document)
{
    public YamlDocument Document { get; } = document;
    public string Name => Document.Name ?? "";
    public string Type => Yaml.Text(Document.Root["spec"]?["type"]) ?? "";
    public string Version => Yaml.Text(Document.Root["spec"]?["version"]) ?? "";
    public bool IsSecretStore => Type.StartsWith("secretstores.", StringComparison.Ordinal);
    public IReadOnlyList<string> Scopes => Yaml.Strings(Document.Root["scopes"]).ToList();
    public string? AuthSecretStore => Yaml.Text(Document.Root["auth"]?["secretStore"]);
    public IReadOnlyList<JsonObject> Metadata => Yaml.Objects(Document.Root["spec"]?["metadata"]).ToList();

    public string? Value(string name) =>
        Yaml.Text(Metadata.SingleOrDefault(item => Yaml.Text(item["name"]) == name)?["value"]);

    public IEnumerable<(string Item, string Secret, string Key)> SecretReferences =>
        Metadata.Where(item => item["secretKeyRef"] is JsonObject)
            .Select(item => (Yaml.Text(item["name"]) ?? "", Yaml.Text(item["secretKeyRef"]!["name"]) ?? "", Yaml.Text(item["secretKeyRef"]!["key"]) ?? ""));

    public override string ToString() => $"{Name} in {Repository.Relative(Document.File)}";
}

using System.Text.Json.Nodes;

namespace Licenzy.Deployment.Tests;

/// <summary>The manifests under k8s/ (not the kustomization itself), and ways into them.</summary>
public static class KubernetesManifests
{
    public const string Folder = "k8s";

    public static IReadOnlyList<string> Files { get; } = Repository.YamlFilesIn(Folder)
        .Where(file => Path.GetFileName(file) != "kustomization.yaml")
        .ToList();

    public static IReadOnlyList<YamlDocument> Documents { get; } = Yaml.LoadAll(Files);

    public static YamlDocument Kustomization { get; } = Yaml.Load(Repository.PathOf("k8s/kustomization.yaml")).Single();

    public static IEnumerable<YamlDocument> OfKind(string kind) => Documents.Where(document => document.Kind == kind);

    public static IReadOnlyList<YamlDocument> Deployments => OfKind("Deployment").ToList();

    public static YamlDocument DeploymentOf(string appId) =>
        Deployments.SingleOrDefault(deployment => Annotation(deployment, "dapr.io/app-id") == appId)
        ?? throw new Xunit.Sdk.XunitException($"No Deployment in k8s/ has dapr.io/app-id: {appId}.");

    public static string? Annotation(YamlDocument deployment, string name) =>
        Yaml.Text(deployment.Root["spec"]?["template"]?["metadata"]?["annotations"]?[name]);

    public static JsonObject PodSpec(YamlDocument deployment) =>
        deployment.Root["spec"]?["template"]?["spec"] as JsonObject
        ?? throw new Xunit.Sdk.XunitException($"{deployment} has no pod template spec.");

    public static IReadOnlyList<JsonObject> Containers(YamlDocument deployment) =>
        Yaml.Objects(PodSpec(deployment)["containers"]).ToList();

    public static JsonObject? PodLabels(YamlDocument deployment) =>
        deployment.Root["spec"]?["template"]?["metadata"]?["labels"] as JsonObject;

    /// <summary>A container's environment as the app sees it: ConfigMaps it imports, then its own env.</summary>
    public static IReadOnlyDictionary<string, JsonObject> Environment(JsonObject container)
    {
        var environment = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var source in Yaml.Objects(container["envFrom"]))
        {
            var configMap = Yaml.Text(source["configMapRef"]?["name"]);
            if (configMap is null) continue;
            var data = OfKind("ConfigMap").SingleOrDefault(map => map.Name == configMap)?.Root["data"] as JsonObject
                ?? throw new Xunit.Sdk.XunitException($"ConfigMap {configMap} is imported but not defined in k8s/.");
            foreach (var (key, value) in data)
                environment[key] = new JsonObject { ["name"] = key, ["value"] = Yaml.Text(value) };
        }
        foreach (var variable in Yaml.Objects(container["env"]))
            environment[Yaml.Text(variable["name"]) ?? ""] = variable;
        return environment;
    }

    public static string? EnvironmentValue(JsonObject container, string name) =>
        Environment(container).TryGetValue(name, out var variable) ? Yaml.Text(variable["value"]) : null;

    /// <summary>A probe's or Service's port resolved to a number through the container's named ports.</summary>
    public static long? ContainerPort(JsonObject container, JsonNode? port)
    {
        if (port is JsonValue value && value.TryGetValue<long>(out var number)) return number;
        var name = Yaml.Text(port);
        var match = Yaml.Objects(container["ports"]).SingleOrDefault(p => Yaml.Text(p["name"]) == name);
        return match?["containerPort"] is JsonValue containerPort && containerPort.TryGetValue<long>(out var resolved) ? resolved : null;
    }
}

using System.Text.Json.Nodes;

namespace Licenzy.Deployment.Tests;

/// <summary>dapr.yaml (the multi-app run file) and tye.yaml, read once.</summary>
public static class LocalRun
{
    public static JsonObject RunFile { get; } = Yaml.Load(Repository.PathOf("dapr.yaml")).Single().Root;

    public static JsonObject Common => RunFile["common"] as JsonObject ?? [];

    public static IReadOnlyList<JsonObject> Apps => Yaml.Objects(RunFile["apps"]).ToList();

    public static JsonObject App(string appId) =>
        Apps.SingleOrDefault(app => Yaml.Text(app["appID"]) == appId)
        ?? throw new Xunit.Sdk.XunitException($"dapr.yaml has no app {appId}.");

    /// <summary>An app's environment: the common env, overridden by its own.</summary>
    public static string? Environment(JsonObject app, string name) =>
        Yaml.Text(app["env"]?[name]) ?? Yaml.Text(Common["env"]?[name]);

    /// <summary>A setting of an app, or of the common section when the app does not set it.</summary>
    public static string? Setting(JsonObject app, string name) => Yaml.Text(app[name]) ?? Yaml.Text(Common[name]);

    public static JsonObject Tye { get; } = Yaml.Load(Repository.PathOf("tye.yaml")).Single().Root;

    public static JsonObject TyeDaprExtension =>
        Yaml.Objects(Tye["extensions"]).SingleOrDefault(extension => Yaml.Text(extension["name"]) == "dapr")
        ?? throw new Xunit.Sdk.XunitException("tye.yaml has no dapr extension.");

    public static IReadOnlyList<JsonObject> TyeServices => Yaml.Objects(Tye["services"]).ToList();
}

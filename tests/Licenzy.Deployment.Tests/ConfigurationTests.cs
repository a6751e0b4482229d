using System.Globalization;
using System.Text.Json.Nodes;

namespace Licenzy.Deployment.Tests;

/// <summary>The Dapr Configuration each sidecar is started with exists and is sensible.</summary>
public sealed class ConfigurationTests
{
    public static TheoryData<string> Environments => ComponentTests.Environments;

    [Fact]
    public void The_configuration_the_kubernetes_annotations_name_exists()
    {
        var names = DaprResources.Kubernetes.OfKind("Configuration").Select(c => c.Name).ToHashSet();
        foreach (var deployment in KubernetesManifests.Deployments)
        {
            var config = KubernetesManifests.Annotation(deployment, "dapr.io/config");
            Assert.True(config is not null && names.Contains(config),
                $"{deployment} names Dapr configuration '{config}', which components/kubernetes does not define.");
        }
    }

    [Fact]
    public void The_configuration_files_dapr_run_and_tye_name_exist_with_the_kubernetes_name()
    {
        var kubernetesName = KubernetesManifests.Annotation(KubernetesManifests.Deployments[0], "dapr.io/config");
        foreach (var app in LocalRun.Apps)
        {
            var file = Yaml.Text(app["configFilePath"]) ?? throw new Xunit.Sdk.XunitException($"dapr.yaml: {Yaml.Text(app["appID"])} has no configFilePath.");
            Assert.Equal(kubernetesName, ConfigurationIn(Repository.PathOf(file)));
        }
        // Tye reads <config>.yaml from its components-path.
        var tyeConfig = Yaml.Text(LocalRun.TyeDaprExtension["config"]) ?? "";
        var tyeFile = Path.Combine(Repository.PathOf(Yaml.Text(LocalRun.TyeDaprExtension["components-path"]) ?? ""), tyeConfig + ".yaml");
        Assert.Equal(kubernetesName, ConfigurationIn(tyeFile));
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void Tracing_and_metrics_are_set_for_a_small_service(string environment)
    {
        var configuration = DaprResources.Named(environment).OfKind("Configuration").Single();
        var spec = configuration.Root["spec"] as JsonObject ?? [];
        var sampling = double.Parse(Yaml.Text(spec["tracing"]?["samplingRate"]) ?? "-1", CultureInfo.InvariantCulture);
        Assert.InRange(sampling, 0.0, 1.0);
        Assert.Equal("true", Yaml.Text(spec["metrics"]?["enabled"]));
        // Keys and actor ids are in the sidecar's paths: no metric series per key.
        Assert.Equal("false", Yaml.Text(spec["metrics"]?["http"]?["increasedCardinality"]));
        Assert.Equal("true", Yaml.Text(spec["logging"]?["apiLogging"]?["obfuscateURLs"]));
    }

    [Theory]
    [MemberData(nameof(Environments))]
    public void The_apps_cannot_read_the_secret_stores_components_use(string environment)
    {
        var resources = DaprResources.Named(environment);
        var configuration = resources.OfKind("Configuration").Single();
        var scopes = Yaml.Objects(configuration.Root["spec"]?["secrets"]?["scopes"])
            .ToDictionary(scope => Yaml.Text(scope["storeName"]) ?? "", scope => Yaml.Text(scope["defaultAccess"]));
        foreach (var store in resources.Components.Select(c => c.AuthSecretStore).OfType<string>().Distinct())
            Assert.True(scopes.TryGetValue(store, out var access) && access == "deny",
                $"{configuration}: secret store {store} must be scoped with defaultAccess: deny.");
    }

    private static string? ConfigurationIn(string file)
    {
        Assert.True(File.Exists(file), $"{Repository.Relative(file)} does not exist.");
        return Yaml.Load(file).Single(document => document.Kind == "Configuration").Name;
    }
}

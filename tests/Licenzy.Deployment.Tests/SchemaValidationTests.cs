using System.Text.Json.Nodes;

namespace Licenzy.Deployment.Tests;

/// <summary>
/// The manifests are valid Kubernetes objects (checked against the API schemas by an npm
/// validator), and the Dapr resources, which that validator does not know, are well formed.
/// </summary>
public sealed class SchemaValidationTests
{
    [Fact]
    public async Task Every_kubernetes_manifest_matches_the_kubernetes_api_schema()
    {
        var results = await ManifestValidator.ValidateAsync(KubernetesManifests.Files);
        Assert.Equal(KubernetesManifests.Documents.Count, results.Count);
        var failures = results.Where(result => result.Result != "valid").ToList();
        Assert.True(failures.Count == 0, "Not valid Kubernetes objects:\n" + string.Join("\n", failures));
    }

    [Fact]
    public async Task The_schema_check_rejects_a_broken_manifest()
    {
        // A validator that passes everything would make the test above worthless.
        var file = Path.Combine(Path.GetTempPath(), $"licenzy-broken-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: v1
            kind: Service
            metadata:
              name: broken
            spec:
              ports:
                - port: eighty
            ---
            apiVersion: apps/v1
            kind: Deploymnet
            metadata:
              name: misspelled
            """);
        try
        {
            var results = await ManifestValidator.ValidateAsync([file]);
            Assert.Equal(["invalid", "unknown"], results.Select(result => result.Result));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [MemberData(nameof(ComponentTests.Environments), MemberType = typeof(ComponentTests))]
    public void Every_dapr_resource_is_well_formed(string environment)
    {
        var resources = DaprResources.Named(environment);
        Assert.NotEmpty(resources.Documents);
        foreach (var document in resources.Documents)
        {
            Assert.Equal("dapr.io/v1alpha1", document.ApiVersion);
            Assert.Contains(document.Kind, new[] { "Component", "Resiliency", "Configuration" });
            Assert.False(string.IsNullOrEmpty(document.Name), $"{document} has no metadata.name.");
        }
        foreach (var component in resources.Components)
        {
            Assert.Matches(@"^[a-z]+(\.[a-z0-9-]+)+$", component.Type);
            Assert.Matches(@"^v[0-9]+$", component.Version);
            var names = new HashSet<string>();
            foreach (var item in component.Metadata)
            {
                var name = Yaml.Text(item["name"]) ?? "";
                Assert.True(names.Add(name), $"{component} sets metadata '{name}' twice.");
                Assert.True(item["value"] is not null ^ item["secretKeyRef"] is JsonObject,
                    $"{component}: metadata '{name}' needs exactly one of value or secretKeyRef.");
            }
        }
    }

    [Fact]
    public void Every_yaml_file_of_the_deployment_parses()
    {
        var files = Repository.YamlFilesIn("components").Concat(Repository.YamlFilesIn("k8s"))
            .Append(Repository.PathOf("dapr.yaml")).Append(Repository.PathOf("tye.yaml"));
        foreach (var file in files)
            Assert.NotEmpty(Yaml.Load(file));
    }
}

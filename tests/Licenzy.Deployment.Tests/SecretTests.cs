using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Licenzy.Deployment.Tests;

/// <summary>No secret is written into a file that is deployed; every reference resolves.</summary>
public sealed partial class SecretTests
{
    [Fact]
    public void Kubernetes_components_take_secrets_from_secret_references_only()
    {
        foreach (var component in DaprResources.Kubernetes.Components)
        {
            foreach (var item in component.Metadata)
            {
                var name = Yaml.Text(item["name"]) ?? "";
                if (SecretLike().IsMatch(name))
                    Assert.True(item["secretKeyRef"] is JsonObject && item["value"] is null,
                        $"{component}: metadata '{name}' must come from a secretKeyRef, not a value.");
                var value = Yaml.Text(item["value"]) ?? "";
                Assert.False(CredentialInText().IsMatch(value), $"{component}: metadata '{name}' holds a credential in its value.");
            }
            if (component.SecretReferences.Any())
                Assert.True(component.AuthSecretStore == "kubernetes",
                    $"{component} references secrets; its auth.secretStore must be the Kubernetes secret store ('kubernetes').");
        }
    }

    [Fact]
    public void Local_secret_references_resolve_in_the_local_secrets_file()
    {
        foreach (var component in DaprResources.Local.Components.Where(c => c.SecretReferences.Any()))
        {
            var store = DaprResources.Local.Components.SingleOrDefault(c => c.Name == component.AuthSecretStore && c.IsSecretStore)
                ?? throw new Xunit.Sdk.XunitException($"{component} names secret store '{component.AuthSecretStore}', which is not in {DaprResources.Local}.");
            Assert.Equal("secretstores.local.file", store.Type);
            var secrets = LocalSecrets(store);
            foreach (var (item, secret, key) in component.SecretReferences)
            {
                // A flat secrets file holds one value per secret, under the secret's own name.
                Assert.True(secret == key, $"{component}: '{item}' refers to {secret}/{key}; in a flat secrets file the key is the secret's name.");
                Assert.True(secrets.ContainsKey(secret), $"{component}: '{item}' refers to '{secret}', which {store.Value("secretsFile")} does not hold.");
            }
        }
    }

    [Fact]
    public void The_local_secrets_file_holds_only_obviously_fake_values()
    {
        var store = DaprResources.Local.Components.Single(c => c.Type == "secretstores.local.file");
        foreach (var (name, value) in LocalSecrets(store))
            Assert.True(value.Length == 0 || value.Contains("local-dev", StringComparison.Ordinal),
                $"Local secret '{name}' must be empty or say it is a local-dev value.");
    }

    [Fact]
    public void The_kubernetes_manifests_contain_no_Secret_and_take_secret_settings_from_Secrets()
    {
        Assert.DoesNotContain(KubernetesManifests.Documents, document => document.Kind == "Secret");
        foreach (var configMap in KubernetesManifests.OfKind("ConfigMap"))
            foreach (var (key, _) in configMap.Root["data"] as JsonObject ?? [])
                Assert.False(SecretLike().IsMatch(key), $"{configMap}: '{key}' looks like a secret; it belongs in a Secret.");
        foreach (var deployment in KubernetesManifests.Deployments)
            foreach (var container in KubernetesManifests.Containers(deployment))
                foreach (var variable in Yaml.Objects(container["env"]).Where(v => SecretLike().IsMatch(Yaml.Text(v["name"]) ?? "")))
                    Assert.True(variable["valueFrom"]?["secretKeyRef"] is JsonObject,
                        $"{deployment}: {Yaml.Text(variable["name"])} must come from a secretKeyRef.");
    }

    private static Dictionary<string, string> LocalSecrets(DaprComponent store)
    {
        // daprd starts in the repository root (dapr.yaml appDirPath, tye's working directory).
        var path = Repository.PathOf(store.Value("secretsFile") ?? "");
        Assert.True(File.Exists(path), $"{store}: secretsFile {store.Value("secretsFile")} does not exist from the repository root.");
        return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path))
            ?? throw new Xunit.Sdk.XunitException($"{path} holds no secrets object.");
    }

    [GeneratedRegex("password|secret|token|connectionstring|connection-string|accesskey|apikey", RegexOptions.IgnoreCase)]
    private static partial Regex SecretLike();

    [GeneratedRegex("password=|sharedaccesskey=|accountkey=|://[^/@:]+:[^/@]+@", RegexOptions.IgnoreCase)]
    private static partial Regex CredentialInText();
}

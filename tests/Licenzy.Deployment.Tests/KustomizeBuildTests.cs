using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Licenzy.Infrastructure.Secrets;

namespace Licenzy.Deployment.Tests;

/// <summary>
/// Runs only where kubectl is installed; elsewhere it is reported as skipped, with the reason, also
/// written into the test's name: `dotnet test` at its default verbosity names a skipped test but
/// leaves out xunit's reason.
/// </summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute([CallerMemberName] string test = "")
    {
        if (OnPath("kubectl") is not null) return;
        Skip = "needs kubectl on PATH to build the kustomization; the kustomization's file list is checked without it";
        DisplayName = $"{test} (skipped: {Skip})";
    }

    public static string? OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);
}

/// <summary>What `kubectl apply -k k8s/` would send: it builds, and every object in it is valid.</summary>
public sealed class KustomizeBuildTests
{
    [KubectlFact]
    public async Task The_kustomization_builds_into_valid_objects_in_the_licenzy_namespace()
    {
        var built = await KustomizeAsync(Repository.PathOf("k8s"));
        var file = Path.Combine(Path.GetTempPath(), $"licenzy-kustomized-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, built);
        try
        {
            var documents = Yaml.Load(file);
            var namespaceName = Yaml.Text(KubernetesManifests.Kustomization.Root["namespace"]);
            foreach (var document in documents.Where(d => d.Kind != "Namespace"))
                Assert.True(Yaml.Text(document.Root["metadata"]?["namespace"]) == namespaceName, $"{document} is not in namespace {namespaceName}.");
            Assert.Equal(KubernetesManifests.Documents.Count + DaprResources.Kubernetes.Documents.Count, documents.Count);

            await AssertValidAsync(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [KubectlFact]
    public async Task The_keyring_certificate_component_gives_both_apps_the_certificate_and_its_password()
    {
        // An overlay as an operator would write it: the deployment plus the component.
        var overlay = Directory.CreateTempSubdirectory("licenzy-overlay-");
        try
        {
            var k8s = Path.GetRelativePath(overlay.FullName, Repository.PathOf("k8s")).Replace('\\', '/');
            await File.WriteAllTextAsync(Path.Combine(overlay.FullName, "kustomization.yaml"), $"""
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - {k8s}
                components:
                  - {k8s}/keyring-certificate
                """);
            var file = Path.Combine(overlay.FullName, "built.yaml");
            await File.WriteAllTextAsync(file, await KustomizeAsync(overlay.FullName));

            var deployments = Yaml.Load(file).Where(d => d.Kind == "Deployment").ToList();
            Assert.Equal(AppIds.All.Order(StringComparer.Ordinal), deployments.Select(d => d.Name ?? "").Order(StringComparer.Ordinal));
            foreach (var deployment in deployments)
            {
                var volume = Yaml.Objects(KubernetesManifests.PodSpec(deployment)["volumes"])
                    .Single(v => Yaml.Text(v["secret"]?["secretName"]) == "licenzy-keyring-certificate");
                var item = Yaml.Objects(volume["secret"]?["items"]).Single(i => Yaml.Text(i["key"]) == "ring.pfx");
                var container = KubernetesManifests.Containers(deployment).Single();
                var mount = Yaml.Objects(container["volumeMounts"]).Single(m => Yaml.Text(m["name"]) == Yaml.Text(volume["name"]));
                Assert.True(Yaml.Text(mount["readOnly"]) == "true", $"{deployment} mounts the certificate writable.");

                var environment = KubernetesManifests.Environment(container);
                var path = environment[SecretsRegistration.CertificatePathKey.Replace(":", "__", StringComparison.Ordinal)];
                Assert.Equal($"{Yaml.Text(mount["mountPath"])}/{Yaml.Text(item["path"])}", Yaml.Text(path["value"]));
                var password = environment[SecretsRegistration.CertificatePasswordKey.Replace(":", "__", StringComparison.Ordinal)];
                Assert.Equal("licenzy-keyring-certificate", Yaml.Text(password["valueFrom"]?["secretKeyRef"]?["name"]));
                Assert.Equal("password", Yaml.Text(password["valueFrom"]?["secretKeyRef"]?["key"]));
            }

            await AssertValidAsync(file);
        }
        finally
        {
            overlay.Delete(recursive: true);
        }
    }

    /// <summary>Every object valid against the Kubernetes schemas; Dapr's own kinds have none there.</summary>
    private static async Task AssertValidAsync(string file)
    {
        var results = await ManifestValidator.ValidateAsync([file]);
        var failures = results.Where(r => r.Result == "invalid" || (r.Result == "unknown" && r.ApiVersion != "dapr.io/v1alpha1")).ToList();
        Assert.True(failures.Count == 0, "The built objects are not all valid:\n" + string.Join("\n", failures));
    }

    private static async Task<string> KustomizeAsync(string folder)
    {
        var start = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("kustomize");
        start.ArgumentList.Add(folder);
        using var process = Process.Start(start) ?? throw new Win32Exception("kubectl did not start.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"kubectl kustomize {Repository.Relative(folder)} failed: {await error}");
        return await output;
    }
}

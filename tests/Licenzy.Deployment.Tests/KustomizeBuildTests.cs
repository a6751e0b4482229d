using System.ComponentModel;
using System.Diagnostics;

namespace Licenzy.Deployment.Tests;

/// <summary>Runs only where kubectl is installed; elsewhere it is reported as skipped, with the reason.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (OnPath("kubectl") is null)
            Skip = "needs kubectl on PATH to build the kustomization; the kustomization's file list is checked without it";
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

            var results = await ManifestValidator.ValidateAsync([file]);
            var failures = results.Where(r => r.Result == "invalid" || (r.Result == "unknown" && r.ApiVersion != "dapr.io/v1alpha1")).ToList();
            Assert.True(failures.Count == 0, "The built deployment has objects that are not valid:\n" + string.Join("\n", failures));
        }
        finally
        {
            File.Delete(file);
        }
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

using System.Globalization;
using System.Text.Json.Nodes;
using Licenzy.Infrastructure.Http;

namespace Licenzy.Deployment.Tests;

/// <summary>The manifests under k8s/: complete, consistent with each other, and locked down.</summary>
public sealed class KubernetesManifestTests
{
    public static TheoryData<string> Kustomizations => new() { "k8s", "components/kubernetes" };

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public void The_kustomization_lists_every_manifest_and_only_files_that_exist(string folder)
    {
        var directory = Repository.PathOf(folder);
        var kustomization = Yaml.Load(Path.Combine(directory, "kustomization.yaml")).Single();
        var listed = Yaml.Strings(kustomization.Root["resources"]).ToList();
        foreach (var resource in listed)
        {
            var path = Path.GetFullPath(Path.Combine(directory, resource));
            Assert.True(File.Exists(path) || File.Exists(Path.Combine(path, "kustomization.yaml")),
                $"{folder}/kustomization.yaml lists {resource}, which is neither a file nor a kustomization folder.");
        }
        var listedFiles = listed.Select(resource => Path.GetFullPath(Path.Combine(directory, resource))).ToHashSet();
        foreach (var file in Repository.YamlFilesIn(folder).Where(file => Path.GetFileName(file) != "kustomization.yaml"))
            Assert.True(listedFiles.Contains(file), $"{folder}/kustomization.yaml does not list {Repository.Relative(file)}.");
        Assert.Equal(listed.Count, listed.Distinct().Count());
    }

    [Fact]
    public void The_deployment_includes_the_kubernetes_dapr_resources()
    {
        var listed = Yaml.Strings(KubernetesManifests.Kustomization.Root["resources"])
            .Select(resource => Path.GetFullPath(Path.Combine(Repository.PathOf("k8s"), resource)));
        Assert.Contains(Repository.PathOf(DaprResources.Kubernetes.Folder), listed);
    }

    [Fact]
    public void Everything_lands_in_the_namespace_the_kustomization_names()
    {
        var namespaceName = Yaml.Text(KubernetesManifests.Kustomization.Root["namespace"]);
        Assert.Equal(namespaceName, KubernetesManifests.OfKind("Namespace").Single().Name);
        foreach (var document in KubernetesManifests.Documents.Concat(DaprResources.Kubernetes.Documents))
        {
            var own = Yaml.Text(document.Root["metadata"]?["namespace"]);
            Assert.True(own is null || own == namespaceName, $"{document} sets namespace {own}; leave it to the kustomization ({namespaceName}).");
        }
    }

    [Fact]
    public void Every_app_has_one_deployment_named_by_its_app_id()
    {
        Assert.Equal(AppIds.All, KubernetesManifests.Deployments.Select(d => KubernetesManifests.Annotation(d, "dapr.io/app-id") ?? "").Order(StringComparer.Ordinal));
        foreach (var deployment in KubernetesManifests.Deployments)
            Assert.Equal(KubernetesManifests.Annotation(deployment, "dapr.io/app-id"), deployment.Name);
    }

    [Fact]
    public void Every_deployment_has_the_dapr_annotations()
    {
        foreach (var deployment in KubernetesManifests.Deployments)
        {
            string? Annotation(string name) => KubernetesManifests.Annotation(deployment, name);
            Assert.Equal("true", Annotation("dapr.io/enabled"));
            Assert.NotNull(Annotation("dapr.io/app-port"));
            Assert.NotNull(Annotation("dapr.io/config"));
            Assert.Equal("true", Annotation("dapr.io/enable-app-health-check"));
            // Liveness: readiness includes the sidecar, and the sidecar waits for the app's health.
            Assert.Equal(HostDefaults.LivenessPath, Annotation("dapr.io/app-health-check-path"));
            Assert.False(string.IsNullOrEmpty(Annotation("dapr.io/api-token-secret")), $"{deployment} sets no dapr.io/api-token-secret.");
            Assert.False(string.IsNullOrEmpty(Annotation("dapr.io/app-token-secret")), $"{deployment} sets no dapr.io/app-token-secret.");
            foreach (var limit in new[] { "sidecar-cpu-request", "sidecar-memory-request", "sidecar-cpu-limit", "sidecar-memory-limit" })
                Assert.False(string.IsNullOrEmpty(Annotation("dapr.io/" + limit)), $"{deployment} sets no dapr.io/{limit} for the injected sidecar.");
        }
    }

    [Fact]
    public void App_ids_and_ports_agree_across_annotations_containers_and_services()
    {
        foreach (var appId in AppIds.All)
        {
            var deployment = KubernetesManifests.DeploymentOf(appId);
            var appPort = long.Parse(KubernetesManifests.Annotation(deployment, "dapr.io/app-port")!, CultureInfo.InvariantCulture);
            var container = KubernetesManifests.Containers(deployment).Single();
            Assert.Contains(appPort, Yaml.Objects(container["ports"]).Select(p => KubernetesManifests.ContainerPort(container, p["containerPort"])));
            Assert.Equal(appPort.ToString(CultureInfo.InvariantCulture), KubernetesManifests.EnvironmentValue(container, "ASPNETCORE_HTTP_PORTS"));

            var service = KubernetesManifests.OfKind("Service").SingleOrDefault(s => s.Name == appId)
                ?? throw new Xunit.Sdk.XunitException($"k8s/ has no Service named {appId}.");
            var selector = service.Root["spec"]?["selector"] as JsonObject ?? [];
            var labels = KubernetesManifests.PodLabels(deployment) ?? [];
            Assert.True(selector.Count > 0 && selector.All(pair => Yaml.Text(labels[pair.Key]) == Yaml.Text(pair.Value)),
                $"Service {appId} does not select the pods of Deployment {appId}.");
            var targets = Yaml.Objects(service.Root["spec"]?["ports"]).Select(p => KubernetesManifests.ContainerPort(container, p["targetPort"]));
            Assert.Contains(appPort, targets);
            Assert.Equal(8080L, appPort);
        }
    }

    [Fact]
    public void Local_and_kubernetes_run_the_same_app_ids()
    {
        var local = LocalRun.Apps.Select(app => Yaml.Text(app["appID"]) ?? "").Order(StringComparer.Ordinal);
        var kubernetes = KubernetesManifests.Deployments.Select(d => KubernetesManifests.Annotation(d, "dapr.io/app-id") ?? "").Order(StringComparer.Ordinal);
        Assert.Equal(local, kubernetes);
    }

    [Fact]
    public void Every_container_has_liveness_and_readiness_probes_on_the_health_paths()
    {
        foreach (var deployment in KubernetesManifests.Deployments)
        {
            foreach (var container in KubernetesManifests.Containers(deployment))
            {
                var name = Yaml.Text(container["name"]);
                AssertProbe(deployment, container, "livenessProbe", HostDefaults.LivenessPath);
                AssertProbe(deployment, container, "readinessProbe", HostDefaults.ReadinessPath);
                if (container["startupProbe"] is not null)
                    AssertProbe(deployment, container, "startupProbe", HostDefaults.LivenessPath);
                Assert.True(container["livenessProbe"]?["httpGet"]?["path"]?.ToString() != container["readinessProbe"]?["httpGet"]?["path"]?.ToString(),
                    $"{deployment} {name}: liveness must not include the sidecar, readiness must.");
            }
        }
    }

    [Fact]
    public void Every_container_runs_as_non_root_read_only_without_privileges_and_with_limits()
    {
        foreach (var deployment in KubernetesManifests.Deployments)
        {
            var pod = KubernetesManifests.PodSpec(deployment);
            var podSecurity = pod["securityContext"] as JsonObject ?? [];
            Assert.Equal("RuntimeDefault", Yaml.Text(podSecurity["seccompProfile"]?["type"]));
            foreach (var container in KubernetesManifests.Containers(deployment).Concat(Yaml.Objects(pod["initContainers"])))
            {
                var at = $"{deployment} container {Yaml.Text(container["name"])}";
                var security = container["securityContext"] as JsonObject ?? [];
                Assert.True(Yaml.Text(security["runAsNonRoot"] ?? podSecurity["runAsNonRoot"]) == "true", $"{at} may run as root.");
                var user = Yaml.Text(security["runAsUser"] ?? podSecurity["runAsUser"]);
                Assert.True(user is null || user != "0", $"{at} runs as UID 0.");
                Assert.True(Yaml.Text(security["allowPrivilegeEscalation"]) == "false", $"{at} allows privilege escalation.");
                Assert.True(Yaml.Text(security["readOnlyRootFilesystem"]) == "true", $"{at} can write its root filesystem.");
                Assert.True(Yaml.Strings(security["capabilities"]?["drop"]).Contains("ALL"), $"{at} keeps Linux capabilities.");
                Assert.NotEqual("true", Yaml.Text(security["privileged"]));
                foreach (var kind in new[] { "requests", "limits" })
                    foreach (var resource in new[] { "cpu", "memory" })
                        Assert.True(container["resources"]?[kind]?[resource] is not null, $"{at} sets no {resource} {kind}.");
                // With a read-only root, /tmp must be a volume of its own.
                var tmp = Yaml.Objects(container["volumeMounts"]).SingleOrDefault(m => Yaml.Text(m["mountPath"]) == "/tmp");
                Assert.True(tmp is not null, $"{at} has no /tmp volume.");
                var volume = Yaml.Objects(pod["volumes"]).SingleOrDefault(v => Yaml.Text(v["name"]) == Yaml.Text(tmp["name"]));
                Assert.True(volume?["emptyDir"] is not null, $"{at}: /tmp is not an emptyDir.");
            }
        }
    }

    [Fact]
    public void Both_apps_mount_the_same_read_write_many_key_ring_at_their_data_path()
    {
        var claims = new HashSet<string>();
        foreach (var deployment in KubernetesManifests.Deployments)
        {
            var pod = KubernetesManifests.PodSpec(deployment);
            var container = KubernetesManifests.Containers(deployment).Single();
            var dataPath = KubernetesManifests.EnvironmentValue(container, "Licenzy__DataPath")
                ?? throw new Xunit.Sdk.XunitException($"{deployment} sets no Licenzy__DataPath.");
            var mount = Yaml.Objects(container["volumeMounts"]).SingleOrDefault(m => Yaml.Text(m["mountPath"]) == dataPath)
                ?? throw new Xunit.Sdk.XunitException($"{deployment}: nothing is mounted at Licenzy__DataPath ({dataPath}).");
            Assert.NotEqual("true", Yaml.Text(mount["readOnly"]));
            var volume = Yaml.Objects(pod["volumes"]).Single(v => Yaml.Text(v["name"]) == Yaml.Text(mount["name"]));
            claims.Add(Yaml.Text(volume["persistentVolumeClaim"]?["claimName"])
                ?? throw new Xunit.Sdk.XunitException($"{deployment}: the key ring is not on a persistent volume claim, so it would not survive or be shared."));
        }
        Assert.Single(claims);
        var claim = KubernetesManifests.OfKind("PersistentVolumeClaim").Single(c => c.Name == claims.Single());
        Assert.Contains("ReadWriteMany", Yaml.Strings(claim.Root["spec"]?["accessModes"]));
    }

    [Fact]
    public void Every_image_can_be_set_through_the_kustomization()
    {
        var overridable = Yaml.Objects(KubernetesManifests.Kustomization.Root["images"]).Select(image => Yaml.Text(image["name"])).ToHashSet();
        foreach (var deployment in KubernetesManifests.Deployments)
            foreach (var container in KubernetesManifests.Containers(deployment))
            {
                var image = Yaml.Text(container["image"]) ?? "";
                var repository = image.Split('@')[0];
                var tagAt = repository.LastIndexOf(':');
                if (tagAt > repository.LastIndexOf('/')) repository = repository[..tagAt];
                Assert.True(overridable.Contains(repository), $"{deployment}: image {image} is not listed under images: in k8s/kustomization.yaml.");
            }
    }

    [Fact]
    public void Pods_run_under_the_service_account_defined_here()
    {
        var accounts = KubernetesManifests.OfKind("ServiceAccount").Select(a => a.Name).ToHashSet();
        foreach (var deployment in KubernetesManifests.Deployments)
        {
            var account = Yaml.Text(KubernetesManifests.PodSpec(deployment)["serviceAccountName"]);
            Assert.True(account is not null && accounts.Contains(account), $"{deployment} runs as service account '{account}', which k8s/ does not define.");
        }
    }

    private static void AssertProbe(YamlDocument deployment, JsonObject container, string probe, string path)
    {
        var at = $"{deployment} container {Yaml.Text(container["name"])}";
        var get = container[probe]?["httpGet"] ?? throw new Xunit.Sdk.XunitException($"{at} has no {probe} over HTTP.");
        Assert.True(Yaml.Text(get["path"]) == path, $"{at}: {probe} checks '{Yaml.Text(get["path"])}', not {path}.");
        Assert.True(KubernetesManifests.ContainerPort(container, get["port"]) is not null, $"{at}: {probe} port is not a port of the container.");
    }
}

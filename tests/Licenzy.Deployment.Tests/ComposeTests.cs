using System.Globalization;
using System.Text.Json.Nodes;
using Licenzy.Infrastructure.Http;

namespace Licenzy.Deployment.Tests;

/// <summary>
/// deploy/compose.dapr.yaml, checked offline (no daprd image can be had where this was written):
/// it runs the same apps as dapr.yaml on the same ports, their sidecars read components/local
/// unchanged, and nothing in its one shared network namespace listens twice on a port.
/// </summary>
public sealed class ComposeTests
{
    private const string File = "deploy/compose.dapr.yaml";
    private const string NamespaceOwner = "redis";

    private static readonly JsonObject Compose = Yaml.Load(Repository.PathOf(File)).Single().Root;

    private static JsonObject Services => Compose["services"] as JsonObject ?? throw new Xunit.Sdk.XunitException($"{File} has no services.");

    private static JsonObject Service(string name) => Services[name] as JsonObject ?? throw new Xunit.Sdk.XunitException($"{File} has no service {name}.");

    /// <summary>The service that runs an app, named by the app id without its "licenzy-" prefix.</summary>
    private static string AppService(string appId) => appId["licenzy-".Length..];

    private static IReadOnlyDictionary<string, string> Flags(string service) =>
        Yaml.Strings(Service(service)["command"]).Select(argument => argument.Split('=', 2))
            .ToDictionary(parts => parts[0], parts => parts.Length > 1 ? parts[1] : "true", StringComparer.Ordinal);

    private static string? Environment(string service, string name) => Yaml.Text(Service(service)["environment"]?[name]);

    [Fact]
    public void Each_app_of_the_run_file_is_built_from_deploy_Dockerfile_with_a_daprd_sidecar_of_its_app_id()
    {
        foreach (var appId in AppIds.All)
        {
            var app = AppService(appId);
            Assert.Equal("deploy/Dockerfile", Yaml.Text(Service(app)["build"]?["dockerfile"]));
            Assert.Equal(app, Yaml.Text(Service(app)["build"]?["target"]));
            Assert.Equal(appId, Flags($"{app}-daprd")["--app-id"]);
            Assert.Equal("/daprd", Yaml.Strings(Service($"{app}-daprd")["entrypoint"]).Single());
        }
        var images = Services.Select(service => Yaml.Text(service.Value?["image"]) ?? "").Where(image => image.StartsWith("daprio/", StringComparison.Ordinal));
        Assert.Single(images.Select(image => image.Split(':')[1]).Distinct());
    }

    [Fact]
    public void The_apps_and_their_sidecars_use_the_ports_of_the_run_file()
    {
        foreach (var appId in AppIds.All)
        {
            var run = LocalRun.App(appId);
            var (app, flags) = (AppService(appId), Flags($"{AppService(appId)}-daprd"));
            var appPort = Yaml.Text(run["appPort"]);
            Assert.Equal(appPort, Environment(app, "ASPNETCORE_HTTP_PORTS"));
            Assert.Equal(appPort, flags["--app-port"]);
            Assert.Equal(Yaml.Text(run["daprHTTPPort"]), flags["--dapr-http-port"]);
            Assert.Equal(Yaml.Text(run["daprHTTPPort"]), Environment(app, "DAPR_HTTP_PORT"));
            Assert.Equal(Yaml.Text(run["daprGRPCPort"]), flags["--dapr-grpc-port"]);
            Assert.Equal(Yaml.Text(run["daprGRPCPort"]), Environment(app, "DAPR_GRPC_PORT"));
            Assert.Equal("true", flags["--enable-app-health-check"]);
            Assert.Equal(HostDefaults.LivenessPath, flags["--app-health-check-path"]);
            Assert.Equal("Dapr", Environment(app, "Licenzy__Components"));
            Assert.Contains($"\"{appPort}:{appPort}\"", System.IO.File.ReadAllText(Repository.PathOf(File)));
        }
    }

    [Fact]
    public void The_sidecars_read_components_local_unchanged_from_a_working_directory_like_the_repository_root()
    {
        foreach (var appId in AppIds.All)
        {
            var sidecar = $"{AppService(appId)}-daprd";
            var workingDirectory = Yaml.Text(Service(sidecar)["working_dir"]) ?? throw new Xunit.Sdk.XunitException($"{File}: {sidecar} has no working_dir.");
            var mount = Yaml.Strings(Service(sidecar)["volumes"]).Single();
            // Relative to the compose file's folder, deploy/.
            Assert.Equal($"../{DaprResources.Local.Folder}:{workingDirectory}/{DaprResources.Local.Folder}:ro", mount);
            Assert.Equal($"./{DaprResources.Local.Folder}", Flags(sidecar)["--resources-path"]);
            Assert.Equal($"./{DaprResources.Local.Folder}/licenzy-config.yaml", Flags(sidecar)["--config"]);
        }
        // components/local names Redis at localhost:6379: the sidecars share Redis's network namespace.
        Assert.Contains("localhost:6379", System.IO.File.ReadAllText(Repository.PathOf($"{DaprResources.Local.Folder}/licenzy-state.yaml")));
        Assert.All(Services.Where(service => service.Key != NamespaceOwner),
            service => Assert.True(Yaml.Text(service.Value?["network_mode"]) == $"service:{NamespaceOwner}", $"{File}: {service.Key} is not in {NamespaceOwner}'s network namespace."));
    }

    [Fact]
    public void Nothing_in_the_shared_network_namespace_listens_twice_on_a_port()
    {
        var listeners = new List<(string Port, string Who)> { ("6379", "redis"), ("9411", "zipkin"), ("2379", "scheduler's etcd"), ("2380", "scheduler's etcd") };
        foreach (var appId in AppIds.All)
        {
            var app = AppService(appId);
            listeners.Add((Environment(app, "ASPNETCORE_HTTP_PORTS")!, app));
            var flags = Flags($"{app}-daprd");
            foreach (var flag in new[] { "--dapr-http-port", "--dapr-grpc-port", "--dapr-internal-grpc-port", "--metrics-port" })
            {
                Assert.True(flags.ContainsKey(flag), $"{File}: {app}-daprd leaves {flag} to its default, which the other sidecar would take too.");
                listeners.Add((flags[flag], $"{app}-daprd {flag}"));
            }
        }
        foreach (var controlPlane in new[] { "placement", "scheduler" })
        {
            var command = Yaml.Strings(Service(controlPlane)["command"]).ToList();
            foreach (var flag in new[] { "--port", "--healthz-port", "--metrics-port" })
            {
                var at = command.IndexOf(flag);
                Assert.True(at >= 0, $"{File}: {controlPlane} leaves {flag} to its default.");
                listeners.Add((command[at + 1], $"{controlPlane} {flag}"));
            }
        }
        var twice = listeners.GroupBy(listener => listener.Port).Where(group => group.Count() > 1).ToList();
        Assert.True(twice.Count == 0, string.Join("; ", twice.Select(group => $"port {group.Key}: {string.Join(", ", group.Select(listener => listener.Who))}")));
        Assert.All(listeners, listener => Assert.True(int.TryParse(listener.Port, NumberStyles.None, CultureInfo.InvariantCulture, out _), $"{listener.Who}: '{listener.Port}'"));
        // The sidecars find the control plane where it listens.
        foreach (var appId in AppIds.All)
        {
            var flags = Flags($"{AppService(appId)}-daprd");
            Assert.Equal($"localhost:{listeners.Single(listener => listener.Who == "placement --port").Port}", flags["--placement-host-address"]);
            Assert.Equal($"localhost:{listeners.Single(listener => listener.Who == "scheduler --port").Port}", flags["--scheduler-host-address"]);
        }
    }

    [Fact]
    public void Both_apps_share_the_key_ring_volume_and_take_the_admin_token_from_the_environment_only()
    {
        var volumes = AppIds.All.Select(appId => Yaml.Strings(Service(AppService(appId))["volumes"]).Single()).Distinct().ToList();
        Assert.Equal(["keyring:/var/lib/licenzy"], volumes);
        Assert.Contains("Licenzy__DataPath=/var/lib/licenzy", System.IO.File.ReadAllText(Repository.PathOf("deploy/Dockerfile")));
        foreach (var appId in AppIds.All)
            Assert.StartsWith("${LICENZY_ADMIN_TOKEN:?", Environment(AppService(appId), "Licenzy__AdminToken"));
    }
}

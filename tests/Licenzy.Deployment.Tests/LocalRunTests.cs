using Licenzy.Infrastructure.Http;

namespace Licenzy.Deployment.Tests;

/// <summary>dapr.yaml and tye.yaml start both apps, on Dapr, with the local components.</summary>
public sealed class LocalRunTests
{
    [Fact]
    public void The_run_file_starts_exactly_the_two_apps()
    {
        Assert.Equal(AppIds.All, LocalRun.Apps.Select(app => Yaml.Text(app["appID"]) ?? "").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_app_uses_the_local_components_and_configuration()
    {
        foreach (var app in LocalRun.Apps)
        {
            var resources = LocalRun.Setting(app, "resourcesPath");
            Assert.True(resources is not null && Repository.PathOf(resources) == Repository.PathOf(DaprResources.Local.Folder),
                $"dapr.yaml: {Yaml.Text(app["appID"])} loads resources from '{resources}', not {DaprResources.Local.Folder}.");
            Assert.Equal("Dapr", LocalRun.Environment(app, "Licenzy__Components"));
            // daprd runs in appDirPath: the secrets file and DataPath are relative to the repository root.
            Assert.Equal(Repository.PathOf("."), Repository.PathOf(LocalRun.Setting(app, "appDirPath") ?? ""));
        }
    }

    [Fact]
    public void Every_app_runs_its_project_and_is_health_checked_on_the_liveness_path()
    {
        foreach (var app in LocalRun.Apps)
        {
            var appId = Yaml.Text(app["appID"]);
            var command = Yaml.Strings(app["command"]).ToList();
            Assert.True(command.Take(2).SequenceEqual(["dotnet", "run"]), $"dapr.yaml: {appId} is not started with dotnet run.");
            var project = command.SkipWhile(argument => argument != "--project").Skip(1).FirstOrDefault();
            Assert.True(project is not null && Directory.Exists(Repository.PathOf(project)), $"dapr.yaml: {appId} runs project '{project}', which does not exist.");
            Assert.Equal("true", LocalRun.Setting(app, "enableAppHealthCheck"));
            Assert.Equal(HostDefaults.LivenessPath, LocalRun.Setting(app, "appHealthCheckPath"));
        }
    }

    [Fact]
    public void Every_app_listens_on_its_own_app_port()
    {
        var ports = new HashSet<string>();
        foreach (var app in LocalRun.Apps)
        {
            var appId = Yaml.Text(app["appID"]);
            var port = Yaml.Text(app["appPort"]) ?? throw new Xunit.Sdk.XunitException($"dapr.yaml: {appId} has no appPort.");
            Assert.True(ports.Add(port), $"dapr.yaml: two apps use port {port}.");
            var urls = LocalRun.Environment(app, "ASPNETCORE_URLS") ?? LocalRun.Environment(app, "Urls") ?? "";
            Assert.True(new Uri(urls).Port.ToString(System.Globalization.CultureInfo.InvariantCulture) == port,
                $"dapr.yaml: {appId} listens on '{urls}' but the sidecar calls it on port {port}.");
        }
    }

    [Fact]
    public void Both_apps_share_one_data_path_so_they_share_the_key_ring()
    {
        var paths = LocalRun.Apps.Select(app => LocalRun.Environment(app, "Licenzy__DataPath")).Distinct().ToList();
        Assert.True(paths.Count == 1 && paths[0] is not null, $"dapr.yaml: the apps' Licenzy__DataPath differ or are missing: {string.Join(", ", paths)}.");
    }

    [Fact]
    public void Tye_says_it_is_archived_and_points_to_the_run_file()
    {
        var header = string.Concat(File.ReadLines(Repository.PathOf("tye.yaml")).TakeWhile(line => line.StartsWith('#')));
        Assert.Contains("archived", header, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("dapr.yaml", header, StringComparison.Ordinal);
    }

    [Fact]
    public void Tye_runs_the_same_apps_on_the_same_ports_with_the_same_components()
    {
        Assert.Equal(Repository.PathOf(DaprResources.Local.Folder), Repository.PathOf(Yaml.Text(LocalRun.TyeDaprExtension["components-path"]) ?? ""));
        Assert.Equal(AppIds.All, LocalRun.TyeServices.Select(service => Yaml.Text(service["name"]) ?? "").Order(StringComparer.Ordinal));
        foreach (var service in LocalRun.TyeServices)
        {
            var name = Yaml.Text(service["name"])!;
            var project = Yaml.Text(service["project"]) ?? "";
            Assert.True(File.Exists(Repository.PathOf(project)), $"tye.yaml: {name} runs project '{project}', which does not exist.");
            var port = Yaml.Text(Yaml.Objects(service["bindings"]).FirstOrDefault()?["port"]);
            Assert.Equal(Yaml.Text(LocalRun.App(name)["appPort"]), port);
            var environment = Yaml.Objects(service["env"]).ToDictionary(v => Yaml.Text(v["name"]) ?? "", v => Yaml.Text(v["value"]));
            Assert.Equal("Dapr", environment.GetValueOrDefault("Licenzy__Components"));
            Assert.Equal(LocalRun.Environment(LocalRun.App(name), "Licenzy__DataPath"), environment.GetValueOrDefault("Licenzy__DataPath"));
        }
    }
}

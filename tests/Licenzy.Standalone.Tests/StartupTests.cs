using System.Net;
using System.Net.Http.Json;
using Licenzy.Testing;

namespace Licenzy.Standalone.Tests;

public sealed class StartupTests : IDisposable
{
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataPath)) Directory.Delete(_dataPath, recursive: true);
    }

    [Fact]
    public async Task Production_refuses_to_start_without_an_admin_token()
    {
        await using var app = LicenzyProcess.Start("Licenzy.Standalone", "Production", new Dictionary<string, string?> { ["Licenzy:DataPath"] = _dataPath });

        var exitCode = await app.WaitForExitAsync();

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Licenzy:AdminToken is not set", app.Output);
    }

    [Fact]
    public async Task Development_generates_an_admin_token_once_and_keeps_it()
    {
        var settings = new Dictionary<string, string?> { ["Licenzy:DataPath"] = _dataPath };
        string token;
        await using (var first = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Development", settings))
        {
            Assert.Contains("generated an admin token", first.Output);
            token = (await File.ReadAllTextAsync(Path.Combine(_dataPath, "dev-admin-token"))).Trim();
            Assert.Contains(token, first.Output);
            var created = await first.Client(token).PostAsJsonAsync("/v1/admin/tenants", new { name = "Dev" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await using var second = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Development", settings);
        Assert.DoesNotContain(token, second.Output);
        Assert.Equal(HttpStatusCode.Created, (await second.Client(token).PostAsJsonAsync("/v1/admin/tenants", new { name = "Dev" })).StatusCode);
    }

    [Fact]
    public async Task A_wrong_setting_stops_the_app_naming_the_key()
    {
        await using var app = LicenzyProcess.Start("Licenzy.Standalone", "Production", new Dictionary<string, string?>
        {
            ["Licenzy:DataPath"] = _dataPath, ["Licenzy:AdminToken"] = "t", ["Licenzy:Stripe:ApiBase"] = "not a url",
        });

        Assert.NotEqual(0, await app.WaitForExitAsync());
        Assert.Contains("Licenzy:Stripe:ApiBase", app.Output);
    }

    [Fact]
    public async Task On_the_dapr_binding_without_a_sidecar_the_app_stops_and_says_why()
    {
        await using var app = LicenzyProcess.Start("Licenzy.Standalone", "Production", new Dictionary<string, string?>
        {
            ["Licenzy:DataPath"] = _dataPath, ["Licenzy:AdminToken"] = "t", ["Licenzy:Components"] = "Dapr",
            ["Licenzy:Dapr:HttpEndpoint"] = "http://127.0.0.1:1", ["Licenzy:Dapr:SidecarWaitTimeout"] = "00:00:00.500",
        });

        Assert.NotEqual(0, await app.WaitForExitAsync());
        Assert.Contains("Dapr sidecar", app.Output);
        Assert.Contains("Licenzy:Dapr:SidecarWaitTimeout", app.Output);
    }
}

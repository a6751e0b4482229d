using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
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

        await AssertStopsSayingAsync(app, "Licenzy:AdminToken is not set", "Licenzy__AdminToken");
    }

    [Fact]
    public async Task An_unknown_components_binding_stops_the_app_naming_the_allowed_ones()
    {
        await using var app = StartInProduction(new() { ["Licenzy:Components"] = "foo" });

        await AssertStopsSayingAsync(app, "Licenzy:Components is \"foo\"", "allowed values: Embedded, Dapr");
    }

    [Fact]
    public async Task A_negative_number_stops_the_app_naming_the_key_and_its_range()
    {
        await using var app = StartInProduction(new() { ["Licenzy:Outbox:MaxAttempts"] = "-1" });

        await AssertStopsSayingAsync(app, "Licenzy:Outbox:MaxAttempts is -1", "at least 1");
    }

    [Fact]
    public async Task A_number_out_of_its_range_stops_the_app_naming_the_key_and_its_range()
    {
        await using var app = StartInProduction(new() { ["Licenzy:ReadCacheCapacity"] = "-5" });

        await AssertStopsSayingAsync(app, "Licenzy:ReadCacheCapacity is -5", "between 0 and 10000000");
    }

    [Fact]
    public async Task Mistakes_in_several_sections_are_named_together_on_one_line()
    {
        await using var app = StartInProduction(new() { ["Licenzy:Outbox:MaxAttempts"] = "-1", ["Licenzy:ReadCacheCapacity"] = "-3" });

        await AssertStopsSayingAsync(app, "Licenzy:Outbox:MaxAttempts is -1", "Licenzy:ReadCacheCapacity is -3");
    }

    [Fact]
    public async Task A_value_that_is_not_a_number_stops_the_app_naming_the_key()
    {
        await using var app = StartInProduction(new() { ["Licenzy:Outbox:MaxAttempts"] = "abc" });

        await AssertStopsSayingAsync(app, "Licenzy:Outbox:MaxAttempts is \"abc\"", "a whole number");
    }

    [Fact]
    public async Task A_value_that_is_not_a_time_span_stops_the_app_naming_the_key()
    {
        await using var app = StartInProduction(new() { ["Licenzy:Stripe:AttemptTimeout"] = "ten seconds" });

        await AssertStopsSayingAsync(app, "Licenzy:Stripe:AttemptTimeout is \"ten seconds\"", "a time span");
    }

    [Theory]
    [InlineData("Licenzy.Api")]
    [InlineData("Licenzy.Ingest")]
    public async Task The_api_and_ingest_apps_report_a_mistake_the_same_way(string appName)
    {
        await using var app = LicenzyProcess.Start(appName, "Production", new Dictionary<string, string?>
        {
            ["Licenzy:DataPath"] = _dataPath, ["Licenzy:Components"] = "foo",
        });

        await AssertStopsSayingAsync(app, "Licenzy:Components is \"foo\"", "allowed values: Embedded, Dapr");
    }

    [Fact]
    public void The_launch_profile_names_no_environment_so_the_callers_wins()
    {
        var launchSettings = Path.Combine(RepositoryRoot, "src", "Licenzy.Standalone", "Properties", "launchSettings.json");
        using var json = JsonDocument.Parse(File.ReadAllText(launchSettings));

        foreach (var profile in json.RootElement.GetProperty("profiles").EnumerateObject())
        {
            if (!profile.Value.TryGetProperty("environmentVariables", out var variables)) continue;
            var names = variables.EnumerateObject().Select(variable => variable.Name).ToList();
            Assert.DoesNotContain("ASPNETCORE_ENVIRONMENT", names);
            Assert.DoesNotContain("DOTNET_ENVIRONMENT", names);
        }
    }

    [Fact]
    public async Task Dotnet_run_with_ASPNETCORE_ENVIRONMENT_Production_starts_in_Production()
    {
        await using var app = LicenzyProcess.StartWithDotnetRun(RepositoryRoot, "Licenzy.Standalone", "Production",
            new Dictionary<string, string?> { ["Licenzy:DataPath"] = _dataPath });

        await AssertStopsSayingAsync(app, "Licenzy:AdminToken is not set");
    }

    [Fact]
    public async Task Dotnet_run_without_an_environment_starts_in_Development()
    {
        await using var app = LicenzyProcess.StartWithDotnetRun(RepositoryRoot, "Licenzy.Standalone", environment: null,
            new Dictionary<string, string?> { ["Licenzy:DataPath"] = _dataPath });

        await app.WaitForLineAsync("Application started");
        Assert.Contains("Licenzy (Development): generated an admin token", app.Output);
    }

    [Fact]
    public async Task The_built_app_without_an_environment_stays_in_Production()
    {
        // Only dotnet run (its launch profile) defaults to Development; a published app never does.
        await using var app = LicenzyProcess.Start("Licenzy.Standalone", environment: null, new Dictionary<string, string?> { ["Licenzy:DataPath"] = _dataPath });

        await AssertStopsSayingAsync(app, "Licenzy:AdminToken is not set");
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

        await AssertStopsSayingAsync(app, "Licenzy:Stripe:ApiBase must be an absolute http(s) URL");
    }

    [Theory]
    [InlineData("Licenzy:PublicBaseUrl", "licenzy.example.com")]
    [InlineData("Licenzy:PublicBaseUrl", "ftp://licenzy.example.com")]
    [InlineData("Licenzy:PublicIngestUrl", "/ingest")]
    public async Task A_public_url_that_is_not_absolute_http_stops_the_app_naming_the_key(string key, string value)
    {
        await using var app = StartInProduction(new() { [key] = value });

        await AssertStopsSayingAsync(app, $"{key} is \"{value}\"", "absolute http(s) URL");
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

    [Fact]
    public async Task A_webhook_retry_schedule_shorter_than_24_hours_stops_the_app_naming_the_key()
    {
        await using var app = StartInProduction(new() { ["Licenzy:Webhooks:RetrySchedule:0"] = "00:00:05", ["Licenzy:Webhooks:RetrySchedule:1"] = "01:00:00" });

        await AssertStopsSayingAsync(app, "Licenzy:Webhooks:RetrySchedule adds up to 01:00:05", "at least 1.00:00:00");
    }

    [Theory]
    [InlineData("Production", HttpStatusCode.BadRequest)]
    [InlineData("Development", HttpStatusCode.Created)]
    public async Task Webhook_endpoints_on_loopback_are_allowed_only_in_development_by_default(string environment, HttpStatusCode expected)
    {
        await using var app = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", environment, new Dictionary<string, string?>
        {
            ["Licenzy:DataPath"] = _dataPath, ["Licenzy:AdminToken"] = "webhook-admin-token",
        });
        var admin = app.Client("webhook-admin-token");
        var tenant = await (await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "Hooks" })).Content.ReadFromJsonAsync<JsonElement>();

        var response = await admin.PostAsJsonAsync($"/v1/admin/tenants/{tenant.GetProperty("tenant_id").GetString()}/modes/test/webhook-endpoints",
            new { url = "http://127.0.0.1:9/hook" });

        Assert.Equal(expected, response.StatusCode);
    }

    private static string RepositoryRoot =>
        typeof(StartupTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    private LicenzyProcess StartInProduction(Dictionary<string, string?> settings)
    {
        settings["Licenzy:DataPath"] = _dataPath;
        settings.TryAdd("Licenzy:AdminToken", "production-admin-token");
        return LicenzyProcess.Start("Licenzy.Standalone", "Production", settings);
    }

    /// <summary>Exit code 1 and one line on standard error saying all of <paramref name="expected"/>; no stack trace anywhere.</summary>
    private static async Task AssertStopsSayingAsync(LicenzyProcess app, params string[] expected)
    {
        var exitCode = await app.WaitForExitAsync();

        var errors = app.ErrorLines.Where(line => line.Length > 0).ToList();
        var line = Assert.Single(errors);
        Assert.StartsWith("Licenzy cannot start: ", line);
        foreach (var text in expected) Assert.Contains(text, line);
        Assert.DoesNotContain("Unhandled exception", app.Output);
        Assert.DoesNotContain("   at ", app.Output);
        Assert.Equal(1, exitCode);
    }
}

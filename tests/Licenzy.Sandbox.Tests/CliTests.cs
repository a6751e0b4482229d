using Licenzy.Sandbox.Cli;
using Licenzy.Testing;

namespace Licenzy.Sandbox.Tests;

/// <summary>
/// <c>dotnet run --project src/Licenzy.Standalone -- sandbox trigger ...</c>: the CLI pulls a
/// trigger on a running Licenzy over HTTP (here the in-memory one), prints what was delivered,
/// and exits non-zero with a clear message when anything is wrong.
/// </summary>
public sealed class CliTests(SandboxedLicenzy app) : IClassFixture<SandboxedLicenzy>, IDisposable
{
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataPath)) Directory.Delete(_dataPath, recursive: true);
    }

    [Fact]
    public async Task Trigger_delivers_the_events_and_prints_them()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);
        var sentBefore = tenant.Webhooks.Count;

        var run = await RunAsync("sandbox", "trigger", "payment_failure", "--tenant", tenant.TenantId, "--subject", "user_1",
            "--url", SandboxedLicenzy.Origin, "--admin-token", LicenzyApp.AdminToken);

        Assert.True(run.ExitCode == 0, run.Error);
        var sent = tenant.Webhooks.Skip(sentBefore).Select(w => new Delivered(w.Event.Id, w.Event.Type)).ToList();
        Assert.Equal(["invoice.payment_failed", "customer.subscription.updated"], sent.Select(e => e.Type));
        Assert.Contains("accepted 2 event(s)", run.Output);
        Assert.All(sent, e => Assert.Contains(e.Id, run.Output));
        await tenant.AppliedAsync(sent);
        Assert.False(await tenant.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task Product_picks_the_purchase()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);
        await tenant.BuyAsync("user_1", SandboxTenant.DayPass);

        var run = await RunAsync("sandbox", "trigger", "refund", "--tenant", tenant.TenantId, "--subject", "user_1", "--product", SandboxTenant.DayPass,
            "--url", SandboxedLicenzy.Origin, "--admin-token", LicenzyApp.AdminToken);

        Assert.True(run.ExitCode == 0, run.Error);
        var refund = tenant.Webhooks[^1];
        await tenant.AppliedAsync([new Delivered(refund.Event.Id, refund.Event.Type)]);
        var statuses = (await tenant.EntitlementsAsync("user_1")).EnumerateArray()
            .ToDictionary(e => e.GetProperty("product_code").GetString()!, e => e.GetProperty("status").GetString());
        Assert.Equal("revoked", statuses[SandboxTenant.DayPass]);
        Assert.Equal("active", statuses[SandboxTenant.Subscription]);
    }

    [Fact]
    public async Task Nothing_to_trigger_exits_non_zero_and_says_why()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);

        var run = await RunAsync("sandbox", "trigger", "recovery", "--tenant", tenant.TenantId, "--subject", "user_1",
            "--url", SandboxedLicenzy.Origin, "--admin-token", LicenzyApp.AdminToken);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("nothing_to_trigger", run.Error);
        Assert.Contains("payment_failure", run.Error);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task A_wrong_admin_token_exits_non_zero_and_says_so()
    {
        var run = await RunAsync("sandbox", "trigger", "renewal", "--tenant", "ten_x", "--subject", "user_1",
            "--url", SandboxedLicenzy.Origin, "--admin-token", "not-the-token");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("admin token was refused", run.Error);
    }

    [Theory]
    [InlineData("explode", "payment_failure")]
    [InlineData("renewal", "--subject")]
    public async Task Bad_arguments_exit_non_zero_and_name_what_is_wrong(string eventName, string named)
    {
        var args = eventName == "renewal"
            ? new[] { "sandbox", "trigger", eventName, "--tenant", "ten_x", "--admin-token", "t" }
            : new[] { "sandbox", "trigger", eventName, "--tenant", "ten_x", "--subject", "u", "--admin-token", "t" };

        var run = await RunAsync(args);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(named, run.Error);
    }

    [Fact]
    public async Task An_unreachable_Licenzy_exits_non_zero_and_says_where_it_looked()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        // No handler: a real connection to a port nothing listens on.
        var exitCode = await SandboxCli.RunAsync(
            ["sandbox", "trigger", "renewal", "--tenant", "ten_x", "--subject", "u", "--url", "http://127.0.0.1:1", "--admin-token", "t"], output, error);

        Assert.Equal(1, exitCode);
        Assert.Contains("Could not reach Licenzy at http://127.0.0.1:1/", error.ToString());
    }

    [Fact]
    public async Task The_standalone_app_runs_the_CLI_when_its_first_argument_is_sandbox()
    {
        await using var process = LicenzyProcess.Start("Licenzy.Standalone", "Development",
            new Dictionary<string, string?> { ["Licenzy:DataPath"] = _dataPath }, "sandbox", "trigger", "renewal", "--tenant", "ten_x");

        Assert.NotEqual(0, await process.WaitForExitAsync());
        Assert.Contains("--subject", process.Output);
        Assert.DoesNotContain("Application started", process.Output);
    }

    private sealed record CliRun(int ExitCode, string Output, string Error);

    private async Task<CliRun> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await SandboxCli.RunAsync(args, output, error, app.Server.CreateHandler());
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }
}

using System.Net;
using System.Net.Http.Json;
using Licenzy.Stripe;
using Licenzy.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Licenzy.Sandbox.Tests;

/// <summary>When the sandbox is on, and that it never runs in Production.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataPath)) Directory.Delete(_dataPath, recursive: true);
    }

    [Fact]
    public async Task Turned_on_in_Production_the_app_refuses_to_start_and_names_the_setting()
    {
        await using var app = LicenzyProcess.Start("Licenzy.Standalone", "Production", new Dictionary<string, string?>
        {
            ["Licenzy:DataPath"] = _dataPath, ["Licenzy:AdminToken"] = "production-admin-token", ["Licenzy:Sandbox:Enabled"] = "true",
        });

        Assert.NotEqual(0, await app.WaitForExitAsync());
        Assert.Contains("Licenzy:Sandbox:Enabled is true in Production", app.Output);
    }

    [Fact]
    public async Task In_Production_it_is_off_by_default()
    {
        await using var app = await InEnvironmentAsync("Production");

        Assert.False(app.Services.GetRequiredService<IOptions<SandboxOptions>>().Value.IsEnabled);
        using var client = app.AdminClient();
        await Problems.AssertProblemAsync(await client.GetAsync("/sandbox/stripe/v1/balance"), HttpStatusCode.NotFound, "not_found");
        await Problems.AssertProblemAsync(await client.GetAsync("/sandbox/checkout/cs_test_x"), HttpStatusCode.NotFound, "not_found");
        await Problems.AssertProblemAsync(await client.GetAsync("/sandbox/prices"), HttpStatusCode.NotFound, "not_found");
        await Problems.AssertProblemAsync(
            await client.PostAsJsonAsync("/sandbox/triggers", new { tenant_id = "ten_x", subject_ref = "u", @event = "refund" }), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task The_CLI_says_so_when_Licenzy_serves_no_sandbox()
    {
        await using var app = await InEnvironmentAsync("Production");
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = await Cli.SandboxCli.RunAsync(
            ["sandbox", "trigger", "renewal", "--tenant", "ten_x", "--subject", "u", "--url", "http://localhost", "--admin-token", LicenzyApp.AdminToken],
            output, error, app.Server.CreateHandler());

        Assert.Equal(1, exitCode);
        Assert.Contains("serves no sandbox", error.ToString());
        Assert.Contains("Licenzy:Sandbox:Enabled", error.ToString());
    }

    [Fact]
    public async Task Outside_Development_it_is_off_unless_turned_on()
    {
        await using var app = await InEnvironmentAsync("Staging");

        await Problems.AssertProblemAsync(await app.AdminClient().GetAsync("/sandbox/prices"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task In_Development_it_is_on_by_default_and_Licenzys_Stripe_client_talks_to_it()
    {
        await using var app = await InEnvironmentAsync("Development");

        Assert.Equal(new Uri("http://localhost:5080/sandbox/stripe"), app.Services.GetRequiredService<IOptions<StripeOptions>>().Value.ApiBase);
        var tenant = await SandboxTenant.CreateAsync(app);
        var checkout = await tenant.CheckoutAsync("user_1", SandboxTenant.Subscription);
        Assert.StartsWith("http://localhost:5080/sandbox/checkout/cs_test_", checkout.Url);
        var paid = await tenant.PayAsync(checkout);
        Assert.Equal(HttpStatusCode.SeeOther, paid.StatusCode);
        await tenant.AppliedAsync(await tenant.SessionEventsAsync(checkout));
        Assert.True(await tenant.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task An_explicit_Stripe_ApiBase_wins_over_the_sandbox()
    {
        await using var app = await InEnvironmentAsync("Development", ("Licenzy:Stripe:ApiBase", "https://stripe.example"));

        Assert.Equal(new Uri("https://stripe.example"), app.Services.GetRequiredService<IOptions<StripeOptions>>().Value.ApiBase);
        Assert.Equal(HttpStatusCode.OK, (await app.AdminClient().GetAsync("/sandbox/prices")).StatusCode);
    }

    [Theory]
    [InlineData("Licenzy:Sandbox:WebhookSecret", "not-a-whsec")]
    [InlineData("Licenzy:Sandbox:BaseUrl", "ftp://example")]
    [InlineData("Licenzy:Sandbox:DeliveryTimeout", "00:30:00")]
    [InlineData("Licenzy:Sandbox:ApiVersion", "basil")]
    [InlineData("Licenzy:Sandbox:ApiVersion", "2025-02-30.acacia")]
    public async Task A_wrong_setting_stops_the_app_naming_the_key(string key, string value)
    {
        await using var app = await InEnvironmentAsync("Development", (key, value));

        var failure = Assert.ThrowsAny<Exception>(() => app.CreateClient());

        Assert.Contains(key, failure.ToString());
    }

    /// <summary>The standalone app as it starts in <paramref name="environment"/>, with the sandbox and Stripe left to their defaults.</summary>
    private static async Task<EnvironmentApp> InEnvironmentAsync(string environment, params (string Key, string? Value)[] settings)
    {
        var app = new EnvironmentApp(environment);
        foreach (var (key, value) in settings) app.Settings[key] = value;
        await app.InitializeAsync();
        return app;
    }

    private sealed class EnvironmentApp : SandboxedLicenzy, IAsyncDisposable
    {
        private readonly string _environment;

        public EnvironmentApp(string environment)
        {
            _environment = environment;
            Settings["Licenzy:Sandbox:Enabled"] = null;
            Settings["Licenzy:Sandbox:BaseUrl"] = null;
            // Unset, so that the sandbox may choose where Licenzy's Stripe client goes (an empty value
            // counts as unset); elsewhere the test stand-in stays, as nothing may change it.
            if (environment == "Development") Settings["Licenzy:Stripe:ApiBase"] = null;
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment(_environment);
        }

        public override async ValueTask DisposeAsync() => await ((IAsyncLifetime)this).DisposeAsync();
    }
}

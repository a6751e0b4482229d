using Licenzy.Standalone;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Licenzy.Testing;

/// <summary>
/// The standalone app (Api and Ingest in one process, embedded components) in memory, with its
/// own data folder, a fake clock, and a local Stripe stand-in. One per test class; each test
/// makes its own tenant, so tests never share data.
/// </summary>
public class LicenzyApp : WebApplicationFactory<StandaloneApp>, IAsyncLifetime, ILicenzyHost
{
    public const string AdminToken = "test-admin-token-0123456789";

    /// <summary>A fixed start, so dates in assertions are readable.</summary>
    public static readonly DateTimeOffset Start = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);

    public FakeTimeProvider Clock { get; } = new(Start);
    public DeliveryObserver Deliveries { get; } = new();
    public string DataPath { get; } = Path.Combine(Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));
    public StripeStandIn Stripe { get; private set; } = null!;

    /// <summary>Leave the data folder in place when disposed, for a second app to start on (a restart).</summary>
    public bool KeepData { get; set; }

    /// <summary>Extra settings a test class wants, applied over the defaults.</summary>
    public Dictionary<string, string?> Settings { get; } = new();

    /// <summary>The Dapr sidecar stand-in, when this app runs on the Dapr binding.</summary>
    public FakeDaprSidecar? Sidecar { get; private set; }

    /// <summary>Which binding the building blocks use; the same tests run on both.</summary>
    protected virtual bool OnDapr => false;

    private HttpClient? _sidecarToApp;

    /// <summary>The tokens both ways between app and sidecar, so every Dapr test also proves them.</summary>
    public const string DaprApiToken = "test-dapr-api-token";
    public const string AppApiToken = "test-app-api-token";

    public async Task InitializeAsync()
    {
        Stripe = await StripeStandIn.StartAsync();
        if (!OnDapr) return;
        Sidecar = await FakeDaprSidecar.StartAsync(Clock);
        Sidecar.ApiToken = DaprApiToken;
        Sidecar.AppApiToken = AppApiToken;
        Sidecar.AddReplica("licenzy", "standalone", () => _sidecarToApp ??= CreateDefaultClient());
        if (Settings.TryGetValue("Licenzy:Outbox:MaxAttempts", out var attempts) && attempts is not null)
            Sidecar.MaxAttempts = int.Parse(attempts, System.Globalization.CultureInfo.InvariantCulture);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Licenzy:AdminToken", AdminToken);
        builder.UseSetting("Licenzy:DataPath", DataPath);
        builder.UseSetting("Licenzy:Stripe:ApiBase", Stripe.BaseUrl.ToString());
        builder.UseSetting("Licenzy:Stripe:RetryBaseDelay", "00:00:00.010");
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        if (Sidecar is not null)
            foreach (var (key, value) in Sidecar.AppSettings()) builder.UseSetting(key, value);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Clock);
            Deliveries.ObserveSubscribers(services);
        });
    }

    public HttpClient AdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", AdminToken);
        return client;
    }

    public HttpClient ApiClient() => CreateClient();

    /// <summary>The standalone app serves the webhook route itself.</summary>
    public HttpClient IngestClient() => CreateClient();

    public HttpClient RuntimeClient(string apiKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        return client;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await Stripe.DisposeAsync();
        if (Sidecar is not null) await Sidecar.DisposeAsync();
        if (KeepData) return;
        try
        {
            Directory.Delete(DataPath, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open is left to the temp folder's cleanup.
        }
    }
}

/// <summary>The same app on the Dapr binding, its sidecar played by <see cref="FakeDaprSidecar"/>.</summary>
public class LicenzyAppOnDapr : LicenzyApp
{
    protected override bool OnDapr => true;
}

public sealed class DaprLicenzyApp : LicenzyAppOnDapr;

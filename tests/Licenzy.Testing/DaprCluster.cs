using Licenzy.Api;
using Licenzy.Infrastructure.Dapr;
using Licenzy.Infrastructure.State;
using Licenzy.Ingest.Webhooks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Licenzy.Testing;

/// <summary>
/// Licenzy as it runs on Kubernetes, in memory: two replicas of the Api app and two of the Ingest
/// app, each by its own Program, behind one Dapr sidecar double that places actors and delivers
/// messages across them. They share what replicas share in a cluster (the state behind the
/// sidecar, the Data Protection key ring folder, the clock) and nothing else. Clients spread their
/// requests over an app's live replicas in turn. No tokens between apps and sidecar: the way
/// <c>dapr run</c> starts apps without them.
/// </summary>
public class DaprCluster : ILicenzyHost, IAsyncLifetime
{
    public const string ApiAppId = "licenzy-api";
    public const string IngestAppId = "licenzy-ingest";

    private readonly List<Replica> _replicas = [];

    public FakeTimeProvider Clock { get; } = new(LicenzyApp.Start);
    public DeliveryObserver Deliveries { get; } = new();
    public StripeStandIn Stripe { get; private set; } = null!;
    public FakeDaprSidecar Sidecar { get; private set; } = null!;
    FakeDaprSidecar? ILicenzyHost.Sidecar => Sidecar;

    /// <summary>The key ring folder the replicas share, as they share a volume in Kubernetes.</summary>
    public string DataPath { get; } = Path.Combine(Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Settings every replica gets on top of the defaults (set before the cluster starts).</summary>
    public Dictionary<string, string?> Settings { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<Replica> Api => Live(ApiAppId);
    public IReadOnlyList<Replica> Ingest => Live(IngestAppId);

    public async Task InitializeAsync()
    {
        Stripe = await StripeStandIn.StartAsync();
        Sidecar = await FakeDaprSidecar.StartAsync(Clock);
        Sidecar.MaxAttempts = MaxAttempts;
        Start<ApiOptions>(ApiAppId, "api-0");
        Start<ApiOptions>(ApiAppId, "api-1");
        Start<WebhookSecrets>(IngestAppId, "ingest-0");
        Start<WebhookSecrets>(IngestAppId, "ingest-1");
    }

    /// <summary>Starts a replica of the app whose assembly holds <typeparamref name="TEntry"/>, by that app's own Program.</summary>
    private void Start<TEntry>(string appId, string name) where TEntry : class
    {
        var gate = new StoreGate();
        var factory = new WebApplicationFactory<TEntry>();
        var configured = factory.WithWebHostBuilder(builder => Configure(builder, gate));
        var replica = new Replica(appId, name, configured.Server.CreateHandler(), factory, gate);
        replica.Registration = Sidecar.AddReplica(appId, name, replica.CreateClient);
        lock (_replicas) _replicas.Add(replica);
    }

    private void Configure(IWebHostBuilder builder, StoreGate gate)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Licenzy:AdminToken", LicenzyApp.AdminToken);
        builder.UseSetting("Licenzy:DataPath", DataPath);
        builder.UseSetting("Licenzy:Stripe:ApiBase", Stripe.BaseUrl.ToString());
        builder.UseSetting("Licenzy:Stripe:RetryBaseDelay", "00:00:00.010");
        foreach (var (key, value) in Sidecar.AppSettings()) builder.UseSetting(key, value);
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Clock);
            Deliveries.ObserveSubscribers(services);
            services.AddSingleton<IStateStoreFactory>(provider => gate.Wrap(provider.GetRequiredService<DaprStateStoreFactory>()));
        });
    }

    /// <summary>
    /// Stops a replica the way a pod goes: out of the sidecar's placement and the clients'
    /// rotation first, then its host disposed, with whatever it was doing.
    /// </summary>
    public async Task StopAsync(Replica replica)
    {
        lock (_replicas) _replicas.Remove(replica);
        Sidecar.RemoveReplica(replica.Registration);
        replica.Gate.Kill();
        await replica.Server.DisposeAsync();
    }

    /// <summary>Deliveries of one message before the sidecar dead-letters it.</summary>
    public int MaxAttempts { get; init; } = 8;

    public HttpClient ApiClient() => Client(ApiAppId);

    public HttpClient AdminClient() => Client(ApiAppId, "Bearer", LicenzyApp.AdminToken);

    public HttpClient RuntimeClient(string apiKey) => Client(ApiAppId, "Bearer", apiKey);

    public HttpClient IngestClient() => Client(IngestAppId);

    private HttpClient Client(string appId, string? scheme = null, string? token = null)
    {
        var client = new HttpClient(new RoundRobin(() => Live(appId))) { BaseAddress = new Uri("http://localhost") };
        if (scheme is not null) client.DefaultRequestHeaders.Authorization = new(scheme, token);
        return client;
    }

    private List<Replica> Live(string appId)
    {
        lock (_replicas) return _replicas.Where(replica => replica.AppId == appId).ToList();
    }

    public async Task DisposeAsync()
    {
        foreach (var replica in Live(ApiAppId).Concat(Live(IngestAppId))) await StopAsync(replica);
        await Sidecar.DisposeAsync();
        await Stripe.DisposeAsync();
        if (Directory.Exists(DataPath)) Directory.Delete(DataPath, recursive: true);
    }

    /// <summary>One app instance: its own host, a gate in its store to stop it mid-turn, and its place behind the sidecar.</summary>
    public sealed class Replica(string appId, string name, HttpMessageHandler handler, IAsyncDisposable host, StoreGate gate)
    {
        public string AppId { get; } = appId;
        public string Name { get; } = name;
        public StoreGate Gate { get; } = gate;
        internal FakeDaprSidecar.Replica Registration { get; set; } = null!;
        internal IAsyncDisposable Server { get; } = host;
        internal HttpMessageHandler Handler { get; } = handler;

        internal HttpClient CreateClient() => new(Handler, disposeHandler: false) { BaseAddress = new Uri("http://localhost") };

        /// <summary>A client of this replica alone, with a bearer token.</summary>
        public HttpClient Client(string bearer)
        {
            var client = CreateClient();
            client.DefaultRequestHeaders.Authorization = new("Bearer", bearer);
            return client;
        }
    }

    /// <summary>Sends each request to the next of an app's live replicas.</summary>
    private sealed class RoundRobin(Func<List<Replica>> live) : HttpMessageHandler
    {
        private int _next;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var replicas = live();
            if (replicas.Count == 0) throw new HttpRequestException("no live replica");
            var replica = replicas[(Interlocked.Increment(ref _next) & int.MaxValue) % replicas.Count];
            using var invoker = new HttpMessageInvoker(replica.Handler, disposeHandler: false);
            return invoker.SendAsync(request, cancellationToken);
        }
    }
}

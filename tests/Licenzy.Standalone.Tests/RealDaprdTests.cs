using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Licenzy.Testing;

namespace Licenzy.Standalone.Tests;

/// <summary>
/// Runs only where a real Dapr runtime is installed (daprd, placement and redis-server on PATH);
/// elsewhere it is reported as skipped, with the reason. These machines have none, so here the
/// Dapr binding is proven against FakeDaprSidecar, which follows Dapr's documented HTTP contract.
/// </summary>
public sealed class DaprRuntimeFactAttribute : FactAttribute
{
    public DaprRuntimeFactAttribute()
    {
        var missing = new[] { "daprd", "placement", "redis-server" }.Where(tool => OnPath(tool) is null).ToList();
        if (missing.Count > 0)
            Skip = $"needs {string.Join(", ", missing)} on PATH; the Dapr binding is tested against the sidecar test double instead";
    }

    public static string? OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);
}

public sealed class RealDaprdTests : IAsyncLifetime
{
    private const string AdminToken = "daprd-admin-token-0123456789";
    private readonly string _work = Path.Combine(Path.GetTempPath(), "licenzy-daprd", Guid.NewGuid().ToString("N"));
    private readonly List<IAsyncDisposable> _started = [];
    private StripeStandIn _stripe = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_work);
        _stripe = await StripeStandIn.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_started)) await process.DisposeAsync();
        await _stripe.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [DaprRuntimeFact]
    public async Task A_purchase_reaches_an_access_check_through_real_sidecars()
    {
        var redisPort = FreePort();
        var placementPort = FreePort();
        _started.Add(await ExternalProcess.StartAsync("redis-server", $"--port {redisPort} --save \"\" --appendonly no", "Ready to accept connections"));
        _started.Add(await ExternalProcess.StartAsync("placement", $"--port {placementPort}", "placement service started"));
        var components = WriteComponents(redisPort);

        var api = await StartAppWithSidecarAsync("Licenzy.Api", "licenzy-api", components, placementPort);
        var ingest = await StartAppWithSidecarAsync("Licenzy.Ingest", "licenzy-ingest", components, placementPort);

        var admin = api.Client(AdminToken);
        var tenantId = (await (await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "Real" })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("tenant_id").GetString()!;
        var secretKey = "sk_test_" + Guid.NewGuid().ToString("N");
        _stripe.AddKey(secretKey, livemode: false);
        _stripe.AddPrice("price_real", type: "one_time");
        var mode = $"/v1/admin/tenants/{tenantId}/modes/test";
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"{mode}/stripe", new { secret_key = secretKey, webhook_secret = "whsec_real" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"{mode}/products", new { code = "PACK", kind = "usage_pack", stripe_price_id = "price_real", usage_units = 5 })).StatusCode);
        var key = (await (await admin.PostAsJsonAsync($"{mode}/api-keys", new { })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;

        var metadata = new Dictionary<string, string> { ["licenzy_tenant"] = tenantId, ["licenzy_mode"] = "test", ["licenzy_subject"] = "u1", ["licenzy_product"] = "PACK" };
        var body = StripeEvents.CheckoutSession("checkout.session.completed", "evt_real_1", DateTimeOffset.UtcNow, "cs_test_real", metadata, "payment", "paid");
        var webhook = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/stripe/{tenantId}/test") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        webhook.Headers.Add("Stripe-Signature", global::Stripe.EventUtility.GenerateSignatureHeader(body, "whsec_real"));
        Assert.Equal(HttpStatusCode.OK, (await ingest.Client().SendAsync(webhook)).StatusCode);

        await api.WaitForLineAsync("Applied CheckoutCompleted evt_real_1");
        var check = await (await api.Client(key).PostAsJsonAsync("/v1/access/check", new { subject_ref = "u1" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(check.GetProperty("allowed").GetBoolean());
    }

    private async Task<LicenzyProcess> StartAppWithSidecarAsync(string app, string appId, string components, int placementPort)
    {
        var daprHttp = FreePort();
        var process = LicenzyProcess.Start(app, "Production", new Dictionary<string, string?>
        {
            ["Licenzy:Components"] = "Dapr",
            ["Licenzy:AdminToken"] = AdminToken,
            ["Licenzy:DataPath"] = Path.Combine(_work, "data"),
            ["Licenzy:Stripe:ApiBase"] = _stripe.BaseUrl.AbsoluteUri,
            ["DAPR_HTTP_PORT"] = daprHttp.ToString(),
        });
        _started.Add(process);
        _started.Add(await ExternalProcess.StartAsync("daprd",
            $"--app-id {appId} --app-port {process.BaseUrl.Port} --dapr-http-port {daprHttp} --dapr-grpc-port {FreePort()} " +
            $"--metrics-port {FreePort()} --resources-path {components} --placement-host-address 127.0.0.1:{placementPort}",
            "dapr initialized"));
        await process.WaitForLineAsync("Application started");
        return process;
    }

    /// <summary>The local components, pointed at this test's Redis.</summary>
    private string WriteComponents(int redisPort)
    {
        var folder = Path.Combine(_work, "components");
        Directory.CreateDirectory(folder);
        string Component(string name, string type, string extra) => $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: {name}
            spec:
              type: {type}
              version: v1
              metadata:
                - name: redisHost
                  value: 127.0.0.1:{redisPort}
            {extra}
            """;
        File.WriteAllText(Path.Combine(folder, "state.yaml"), Component("licenzy-state", "state.redis", """
                - name: actorStateStore
                  value: "true"
            """));
        File.WriteAllText(Path.Combine(folder, "events.yaml"), Component("licenzy-events", "state.redis", """
                - name: outboxPublishPubsub
                  value: licenzy-pubsub
                - name: outboxPublishTopic
                  value: billing-events
            """));
        File.WriteAllText(Path.Combine(folder, "pubsub.yaml"), Component("licenzy-pubsub", "pubsub.redis", ""));
        return folder;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A tool started as a process (redis-server, placement, daprd), ready once it writes a known line.</summary>
internal sealed class ExternalProcess(System.Diagnostics.Process process) : IAsyncDisposable
{
    public static async Task<ExternalProcess> StartAsync(string tool, string arguments, string readyLine)
    {
        var start = new System.Diagnostics.ProcessStartInfo(DaprRuntimeFactAttribute.OnPath(tool)!, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        var process = new System.Diagnostics.Process { StartInfo = start };
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Seen(object _, System.Diagnostics.DataReceivedEventArgs e)
        {
            if (e.Data?.Contains(readyLine, StringComparison.OrdinalIgnoreCase) == true) ready.TrySetResult();
        }
        process.OutputDataReceived += Seen;
        process.ErrorDataReceived += Seen;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (await Task.WhenAny(ready.Task, Task.Delay(TimeSpan.FromMinutes(1))) != ready.Task)
            throw new TimeoutException($"{tool} did not say '{readyLine}' within a minute");
        return new ExternalProcess(process);
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }
}

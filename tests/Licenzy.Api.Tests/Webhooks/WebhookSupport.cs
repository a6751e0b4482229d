using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Licenzy.Api.Webhooks;
using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Licenzy.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Api.Tests.Webhooks;

/// <summary>
/// What host names resolve to in a test: the names set, and <c>localhost</c> through the machine's
/// own resolver; any other name is not found, so no test depends on the network's DNS.
/// </summary>
public sealed class HostTable : IHostResolver
{
    private readonly ConcurrentDictionary<string, IPAddress[]> _names = new(StringComparer.OrdinalIgnoreCase);

    public void Set(string host, params string[] addresses) => _names[host] = addresses.Select(IPAddress.Parse).ToArray();

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
        _names.TryGetValue(host, out var addresses) ? Task.FromResult(addresses)
        : host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? Dns.GetHostAddressesAsync(host, cancellationToken)
        : Task.FromException<IPAddress[]>(new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound));
}

/// <summary>The standalone app with its host names resolved by <see cref="Hosts"/>, and private networks allowed or not.</summary>
public abstract class WebhookApp : LicenzyApp
{
    protected WebhookApp(bool allowPrivateNetworks) =>
        Settings["Licenzy:Webhooks:AllowPrivateNetworks"] = allowPrivateNetworks ? "true" : "false";

    public HostTable Hosts { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IHostResolver>(Hosts));
    }
}

/// <summary>Private networks allowed, as in Development: the receiver runs on 127.0.0.1.</summary>
public class PrivateNetworksApp() : WebhookApp(allowPrivateNetworks: true);

/// <summary>The same on the Dapr binding, its sidecar played by <see cref="FakeDaprSidecar"/>.</summary>
public sealed class PrivateNetworksAppOnDapr : PrivateNetworksApp
{
    protected override bool OnDapr => true;
}

/// <summary>Private networks refused, as in Production.</summary>
public sealed class PublicNetworksApp() : WebhookApp(allowPrivateNetworks: false);

internal static class Webhooks
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    public static async Task<JsonElement> CreateEndpointAsync(this TestTenant tenant, string url, string[]? events = null)
    {
        var response = await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/webhook-endpoints",
            events is null ? new { url } : (object)new { url, events });
        return await response.OkJsonAsync(HttpStatusCode.Created);
    }

    /// <summary>
    /// Commits a message the way the subject writer does: its write in a state transaction, then
    /// the hand-over to the dispatcher. Returns the message id.
    /// </summary>
    public static async Task<string> CommitMessageAsync(this LicenzyApp app, TestTenant tenant, string type = WebhookEventTypes.EntitlementsUpdated,
        object? data = null)
    {
        Modes.TryParse(tenant.Mode, out var mode);
        var outbound = app.Services.GetRequiredService<OutboundMessages>();
        var (message, write) = outbound.Enqueue(tenant.TenantId, mode, type, data ?? new { subject_ref = "user_1", version = 1 });
        var store = app.Services.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore);
        Assert.True(await store.TryTransactAsync([write]));
        outbound.Committed([message]);
        return message.Id;
    }

    public static async Task<IReadOnlyList<JsonElement>> DeliveriesAsync(this TestTenant tenant, string? status = null)
    {
        var response = await tenant.Admin.GetAsync($"{tenant.ModePath}/webhook-deliveries" + (status is null ? "" : $"?status={status}"));
        return (await response.OkJsonAsync()).GetProperty("deliveries").EnumerateArray().ToList();
    }

    /// <summary>Waits until the delivery log shows a delivery to the endpoint that <paramref name="until"/> accepts.</summary>
    public static async Task<JsonElement> WaitForDeliveryAsync(this TestTenant tenant, string endpointId, Func<JsonElement, bool> until, string what)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var delivery = (await tenant.DeliveriesAsync()).FirstOrDefault(d => d.GetProperty("endpoint_id").GetString() == endpointId);
            if (delivery.ValueKind == JsonValueKind.Object && until(delivery)) return delivery;
            if (watch.Elapsed > Guard) throw new TimeoutException($"waited {Guard.TotalSeconds} s for a delivery that is {what}; last seen: {delivery}");
            await Task.Delay(10);
        }
    }

    public static Task<JsonElement> WaitForAttemptsAsync(this TestTenant tenant, string endpointId, int attempts) =>
        tenant.WaitForDeliveryAsync(endpointId, d => d.GetProperty("attempts").GetInt32() >= attempts, $"attempted {attempts} times");

    public static string Id(this JsonElement element) => element.GetProperty("id").GetString()!;
}

/// <summary>
/// Verifies received webhooks with the standardwebhooks npm package (node/verify.js), an
/// implementation independent of the .NET one that signs them. Missing node or a missing package
/// fails the tests that use this, with a message saying so.
/// </summary>
public static class StandardWebhooksVerifier
{
    /// <summary>For each (secret, webhook): "ok", or the verifier's reason for refusing it.</summary>
    public static async Task<IReadOnlyList<string>> VerifyAsync(params (string Secret, ReceivedWebhook Webhook)[] checks)
    {
        var directory = typeof(StandardWebhooksVerifier).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "WebhookNodeDirectory").Value!;
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "standardwebhooks")))
            throw new InvalidOperationException(
                $"The standardwebhooks npm package is not installed in {directory}. Install Node.js 20+ with npm and rebuild " +
                "(the test build runs `npm ci` there), or run `npm ci` in that folder.");

        var input = new JsonArray(checks.Select(check => (JsonNode)new JsonObject
        {
            ["secret"] = check.Secret,
            ["body"] = check.Webhook.Body,
            ["headers"] = new JsonObject
            {
                ["webhook-id"] = check.Webhook.Headers.GetValueOrDefault("webhook-id"),
                ["webhook-timestamp"] = check.Webhook.Headers.GetValueOrDefault("webhook-timestamp"),
                ["webhook-signature"] = check.Webhook.Headers.GetValueOrDefault("webhook-signature"),
            },
        }).ToArray());

        var output = await NodeScript.RunAsync(directory, "verify.js", input.ToJsonString(),
            "the webhook tests verify signatures with the standardwebhooks npm package.");
        return JsonSerializer.Deserialize<string[]>(output)!;
    }
}

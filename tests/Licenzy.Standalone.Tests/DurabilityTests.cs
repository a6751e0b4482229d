using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Licenzy.Testing;

namespace Licenzy.Standalone.Tests;

/// <summary>
/// Once Ingest answers 2xx, the event is not lost, even if the process dies the next instant:
/// proven by killing real processes and starting them again on the same data folder. And what a
/// killed process was delivering is taken back as soon as the next one looks, not when its lease ends.
/// </summary>
public sealed class DurabilityTests : IAsyncLifetime
{
    private const string AdminToken = "durability-admin-token-0123456789";
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));
    private StripeStandIn _stripe = null!;

    public async Task InitializeAsync() => _stripe = await StripeStandIn.StartAsync();

    public async Task DisposeAsync()
    {
        await _stripe.DisposeAsync();
        try
        {
            Directory.Delete(_dataPath, recursive: true);
        }
        catch (IOException)
        {
            // Left to the temp folder's cleanup.
        }
    }

    private Dictionary<string, string?> Settings() => new()
    {
        ["Licenzy:AdminToken"] = AdminToken,
        ["Licenzy:DataPath"] = _dataPath,
        ["Licenzy:Stripe:ApiBase"] = _stripe.BaseUrl.AbsoluteUri,
        // Long on purpose: a delivery cut off by a kill must be taken back because its process is
        // gone, not because its lease ran out.
        ["Licenzy:Outbox:LeaseDuration"] = "00:05:00",
    };

    /// <summary>Tenant, Stripe connection, one product and a key, through the setup API of a running app.</summary>
    private async Task<(string TenantId, string WebhookSecret, string ApiKey)> SetUpAsync(LicenzyProcess app)
    {
        var admin = app.Client(AdminToken);
        var tenant = await (await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "Durable" })).Content.ReadFromJsonAsync<JsonElement>();
        var tenantId = tenant.GetProperty("tenant_id").GetString()!;
        var secretKey = "sk_test_" + Guid.NewGuid().ToString("N");
        _stripe.AddKey(secretKey, livemode: false);
        _stripe.AddPrice("price_durable", type: "recurring");
        const string webhookSecret = "whsec_durable";
        var modePath = $"/v1/admin/tenants/{tenantId}/modes/test";
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"{modePath}/stripe", new { secret_key = secretKey, webhook_secret = webhookSecret })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"{modePath}/products",
            new { code = "PRO", kind = "subscription", stripe_price_id = "price_durable" })).StatusCode);
        var key = await (await admin.PostAsJsonAsync($"{modePath}/api-keys", new { })).Content.ReadFromJsonAsync<JsonElement>();
        return (tenantId, webhookSecret, key.GetProperty("key").GetString()!);
    }

    private static async Task<HttpResponseMessage> SendPaidCheckoutAsync(LicenzyProcess app, string tenantId, string secret, string eventId, string subject)
    {
        var metadata = new Dictionary<string, string>
        {
            ["licenzy_tenant"] = tenantId, ["licenzy_mode"] = "test", ["licenzy_subject"] = subject, ["licenzy_product"] = "PRO",
        };
        var body = StripeEvents.CheckoutSession("checkout.session.completed", eventId, DateTimeOffset.UtcNow, "cs_test_" + eventId,
            metadata, "subscription", "paid");
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/stripe/{tenantId}/test") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Stripe-Signature", global::Stripe.EventUtility.GenerateSignatureHeader(body, secret));
        return await app.Client().SendAsync(request);
    }

    private static async Task<bool> IsAllowedAsync(LicenzyProcess app, string apiKey, string subject)
    {
        var response = await app.Client(apiKey).PostAsJsonAsync("/v1/access/check", new { subject_ref = subject });
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("allowed").GetBoolean();
    }

    [Fact]
    public async Task An_event_acknowledged_by_a_killed_ingest_process_is_applied_after_restart()
    {
        string tenantId, secret, apiKey;
        await using (var setup = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Production", Settings()))
        {
            (tenantId, secret, apiKey) = await SetUpAsync(setup);
            await setup.KillAsync();
        }

        // Ingest alone has no subscriber: the event can only be in the store when it is killed.
        await using (var ingest = await LicenzyProcess.StartReadyAsync("Licenzy.Ingest", "Production", Settings()))
        {
            var response = await SendPaidCheckoutAsync(ingest, tenantId, secret, "evt_kill_ingest", "user_1");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await ingest.KillAsync();
        }

        await using var restarted = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Production", Settings());
        await restarted.WaitForLineAsync("Applied CheckoutCompleted evt_kill_ingest");
        Assert.True(await IsAllowedAsync(restarted, apiKey, "user_1"));
    }

    [Fact]
    public async Task A_license_created_webhook_pending_when_the_app_is_killed_reaches_the_app_after_restart()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        // The first attempts hang, so the deliveries are surely under way, unanswered, at the kill.
        receiver.Hang("/hook");
        var settings = Settings();
        settings["Licenzy:Webhooks:AllowPrivateNetworks"] = "true";
        await using var first = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Production", settings);
        var (tenantId, secret, _) = await SetUpAsync(first);
        var admin = first.Client(AdminToken);
        var modePath = $"/v1/admin/tenants/{tenantId}/modes/test";
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"{modePath}/products",
            new { code = "STARTER", kind = "subscription", stripe_price_id = "price_durable", name = "Starter", issue_license = true })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"{modePath}/webhook-endpoints",
            new { url = receiver.Url("/hook"), events = new[] { "license.created" } })).StatusCode);

        var metadata = new Dictionary<string, string>
        {
            ["licenzy_tenant"] = tenantId, ["licenzy_mode"] = "test", ["licenzy_subject"] = "user_9", ["licenzy_product"] = "STARTER",
        };
        var body = StripeEvents.CheckoutSession("checkout.session.completed", "evt_kill_outbound", DateTimeOffset.UtcNow, "cs_test_kill_outbound",
            metadata, "subscription", "paid");
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/stripe/{tenantId}/test") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Stripe-Signature", global::Stripe.EventUtility.GenerateSignatureHeader(body, secret));
        Assert.Equal(HttpStatusCode.OK, (await first.Client().SendAsync(request)).StatusCode);

        var held = (await receiver.WaitForAsync("/hook")).Single();
        await first.KillAsync();
        receiver.AnswerStatus("/hook", 200);

        await using var restarted = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Production", settings);
        var delivered = (await receiver.WaitForAsync("/hook", 2))[1];
        Assert.Equal(held.Headers["webhook-id"], delivered.Headers["webhook-id"]);
        var message = JsonDocument.Parse(delivered.Body).RootElement;
        Assert.Equal("license.created", message.GetProperty("type").GetString());
        Assert.StartsWith("LZ-", message.GetProperty("data").GetProperty("key").GetString());
    }

    [Fact]
    public async Task An_event_acknowledged_just_before_the_standalone_app_is_killed_is_not_lost()
    {
        await using var first = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Production", Settings());
        var (tenantId, secret, apiKey) = await SetUpAsync(first);

        var response = await SendPaidCheckoutAsync(first, tenantId, secret, "evt_kill_standalone", "user_2");
        await first.KillAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        await using var restarted = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Production", Settings());
        // Either the first process applied it before it died, or the restarted one applies it now.
        if (!await IsAllowedAsync(restarted, apiKey, "user_2"))
        {
            await restarted.WaitForLineAsync("Applied CheckoutCompleted evt_kill_standalone");
        }
        Assert.True(await IsAllowedAsync(restarted, apiKey, "user_2"));
    }

    [Fact]
    public async Task An_event_whose_delivery_was_leased_by_a_killed_process_grants_access_within_seconds_of_restart()
    {
        await using var first = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Production", Settings());
        var (tenantId, secret, apiKey) = await SetUpAsync(first);

        // The event is stored, but its delivery can neither change the subject nor record its
        // outcome: the first process keeps the message leased (for five minutes) until it is killed.
        await ExecuteAsync(HoldDeliveries);
        var response = await SendPaidCheckoutAsync(first, tenantId, secret, "evt_kill_leased", "user_3");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await first.WaitForLineAsync("Could not record the outcome of message evt_kill_leased");
        Assert.NotNull(await QueryAsync("SELECT lease_owner FROM outbox WHERE message_id = 'evt_kill_leased'"));
        Assert.False(await IsAllowedAsync(first, apiKey, "user_3"));
        await first.KillAsync();
        await ExecuteAsync(ReleaseDeliveries);

        await using var restarted = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Production", Settings());
        // Well inside the five-minute lease the killed process took.
        await restarted.WaitForLineAsync("Applied CheckoutCompleted evt_kill_leased").WaitAsync(TimeSpan.FromSeconds(10));
        await restarted.WaitForLineAsync("taken back at once: it no longer runs");
        Assert.True(await IsAllowedAsync(restarted, apiKey, "user_3"));
    }

    // Triggers in the data file: writes to any store but the received events fail, and so does
    // every way a message leaves its lease (retry, delete) - but not the claim that leases it.
    private const string HoldDeliveries = """
        CREATE TRIGGER test_hold_state_insert BEFORE INSERT ON state WHEN NEW.store <> 'licenzy-events'
        BEGIN SELECT RAISE(ABORT, 'held by the test'); END;
        CREATE TRIGGER test_hold_state_update BEFORE UPDATE ON state WHEN NEW.store <> 'licenzy-events'
        BEGIN SELECT RAISE(ABORT, 'held by the test'); END;
        CREATE TRIGGER test_hold_unlease BEFORE UPDATE ON outbox WHEN NEW.lease_owner IS NULL
        BEGIN SELECT RAISE(ABORT, 'held by the test'); END;
        CREATE TRIGGER test_hold_delete BEFORE DELETE ON outbox
        BEGIN SELECT RAISE(ABORT, 'held by the test'); END;
        """;

    private const string ReleaseDeliveries = """
        DROP TRIGGER test_hold_state_insert;
        DROP TRIGGER test_hold_state_update;
        DROP TRIGGER test_hold_unlease;
        DROP TRIGGER test_hold_delete;
        """;

    private SqliteConnection Database() => new($"Data Source={Path.Combine(_dataPath, "licenzy.db")};Pooling=False;Default Timeout=30");

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = Database();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<object?> QueryAsync(string sql)
    {
        await using var connection = Database();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}

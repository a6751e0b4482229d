using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Testing;

namespace Licenzy.Api.Tests.Webhooks;

/// <summary>Webhook endpoints through the setup API, with private networks refused (the default outside Development).</summary>
public sealed class WebhookEndpointTests(PublicNetworksApp app) : IClassFixture<PublicNetworksApp>
{
    private const string PublicHost = "hooks.example.test";
    private const string PublicAddress = "93.184.215.14";

    [Fact]
    public async Task An_endpoint_is_created_with_a_secret_shown_once_and_listed_without_it()
    {
        app.Hosts.Set(PublicHost, PublicAddress);
        var tenant = await TestTenant.CreateAsync(app, connect: false);

        var now = app.Clock.GetUtcNow();
        var created = await tenant.CreateEndpointAsync($"https://{PublicHost}/licenzy");

        Assert.StartsWith("we_", created.Id());
        Assert.Equal($"https://{PublicHost}/licenzy", created.GetProperty("url").GetString());
        Assert.Equal(["license.created", "license.updated", "entitlements.updated"],
            created.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(now, created.GetProperty("created_at").GetDateTimeOffset());
        var secret = created.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret);
        Assert.InRange(Convert.FromBase64String(secret["whsec_".Length..]).Length, 24, 32);

        var listed = (await (await tenant.Admin.GetAsync($"{tenant.ModePath}/webhook-endpoints")).OkJsonAsync())
            .GetProperty("endpoints").EnumerateArray().Single();
        Assert.Equal(created.Id(), listed.Id());
        Assert.False(listed.TryGetProperty("secret", out _));
        Assert.DoesNotContain(secret["whsec_".Length..], listed.GetRawText());
        Assert.Empty(await StoredState.EmbeddedKeysMentioningAsync(app, secret["whsec_".Length..]));
    }

    [Fact]
    public async Task An_endpoint_takes_the_events_it_names()
    {
        app.Hosts.Set(PublicHost, PublicAddress);
        var tenant = await TestTenant.CreateAsync(app, connect: false);

        var created = await tenant.CreateEndpointAsync($"https://{PublicHost}/", ["license.created"]);

        Assert.Equal(["license.created"], created.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
    }

    public static TheoryData<string> RefusedUrls => new()
    {
        "https://10.0.0.5/hook",
        "https://127.0.0.1/hook",
        "https://127.8.9.10:8443/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fc00::1]/hook",
        "https://[fd12:3456::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://100.64.0.1/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.1/hook",
        "https://0.0.0.0/hook",
        "https://[::]/hook",
        "https://224.0.0.1/hook",
        "https://0x7f000001/hook",
        "https://localhost/hook",
        "https://localhost:5000/hook",
        "/relative/hook",
        "hooks.example.test/hook",
        "ftp://hooks.example.test/hook",
        "https://user:password@hooks.example.test/hook",
        "https://not-in-dns.example.test/hook",
        "https://exa\u00ADmple.test/hook",
        "http://[::ffff:a00:1]/hook",
        "https://[64:ff9b::a00:1]/hook",
        "https://[2002:a00:1::1]/hook",
    };

    [Theory]
    [MemberData(nameof(RefusedUrls))]
    public async Task A_url_that_is_not_public_http_is_refused_and_nothing_is_stored(string url)
    {
        app.Hosts.Set(PublicHost, PublicAddress);
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var before = await StoredState.SnapshotAsync(app);

        var response = await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/webhook-endpoints", new { url });

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_url");
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
    }

    [Fact]
    public async Task A_name_that_resolves_to_a_private_address_is_refused()
    {
        app.Hosts.Set("internal.example.test", "10.1.2.3");
        var tenant = await TestTenant.CreateAsync(app, connect: false);

        var response = await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/webhook-endpoints", new { url = "https://internal.example.test/" });

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_url");
        Assert.Contains("10.1.2.3", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Live_mode_takes_only_https()
    {
        app.Hosts.Set(PublicHost, PublicAddress);
        var tenant = await TestTenant.CreateAsync(app, mode: "live", connect: false);

        var http = await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/webhook-endpoints", new { url = $"http://{PublicHost}/" });
        var https = await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/webhook-endpoints", new { url = $"https://{PublicHost}/" });

        await http.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_url");
        Assert.Equal(HttpStatusCode.Created, https.StatusCode);
    }

    [Theory]
    [InlineData("""{"url": "https://hooks.example.test/", "events": ["license.deleted"]}""")]
    [InlineData("""{"url": "https://hooks.example.test/", "events": []}""")]
    [InlineData("""{"url": "https://hooks.example.test/", "events": "license.created"}""")]
    [InlineData("""{"url": "https://hooks.example.test/", "events": [1]}""")]
    [InlineData("""{"events": ["license.created"]}""")]
    [InlineData("""{"url": 42}""")]
    public async Task A_bad_body_is_refused_naming_the_field_and_nothing_is_stored(string body)
    {
        app.Hosts.Set(PublicHost, PublicAddress);
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var before = await StoredState.SnapshotAsync(app);

        var response = await tenant.Admin.PostAsync($"{tenant.ModePath}/webhook-endpoints", Problems.Json(body));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        var field = JsonDocument.Parse(body).RootElement.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String ? "events" : "url";
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
    }

    [Fact]
    public async Task A_deleted_endpoint_leaves_the_list_and_an_unknown_one_is_404()
    {
        app.Hosts.Set(PublicHost, PublicAddress);
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var kept = await tenant.CreateEndpointAsync($"https://{PublicHost}/kept");
        var deleted = await tenant.CreateEndpointAsync($"https://{PublicHost}/deleted");

        var response = await tenant.Admin.DeleteAsync($"{tenant.ModePath}/webhook-endpoints/{deleted.Id()}");
        var again = await tenant.Admin.DeleteAsync($"{tenant.ModePath}/webhook-endpoints/{deleted.Id()}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await again.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_webhook_endpoint");
        var listed = (await (await tenant.Admin.GetAsync($"{tenant.ModePath}/webhook-endpoints")).OkJsonAsync()).GetProperty("endpoints");
        Assert.Equal([kept.Id()], listed.EnumerateArray().Select(e => e.Id()));
    }

    [Fact]
    public async Task Rotating_gives_a_new_secret_and_an_unknown_endpoint_is_404()
    {
        app.Hosts.Set(PublicHost, PublicAddress);
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var created = await tenant.CreateEndpointAsync($"https://{PublicHost}/");

        var rotated = await (await tenant.Admin.PostAsync($"{tenant.ModePath}/webhook-endpoints/{created.Id()}/rotate-secret", null)).OkJsonAsync();
        var unknown = await tenant.Admin.PostAsync($"{tenant.ModePath}/webhook-endpoints/we_nosuch/rotate-secret", null);

        Assert.StartsWith("whsec_", rotated.GetProperty("secret").GetString());
        Assert.NotEqual(created.GetProperty("secret").GetString(), rotated.GetProperty("secret").GetString());
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_webhook_endpoint");
    }

    [Fact]
    public async Task Endpoints_of_one_mode_are_not_seen_in_the_other()
    {
        app.Hosts.Set(PublicHost, PublicAddress);
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        await tenant.CreateEndpointAsync($"https://{PublicHost}/");

        var live = await (await tenant.Admin.GetAsync($"/v1/admin/tenants/{tenant.TenantId}/modes/live/webhook-endpoints")).OkJsonAsync();

        Assert.Empty(live.GetProperty("endpoints").EnumerateArray());
    }

    [Fact]
    public async Task A_name_that_resolves_to_loopback_by_the_time_of_sending_is_not_connected_to()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        app.Hosts.Set("rebinding.example.test", PublicAddress);
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var endpoint = await tenant.CreateEndpointAsync(receiver.Url("/rebinding", host: "rebinding.example.test"));
        app.Hosts.Set("rebinding.example.test", "127.0.0.1");

        await app.CommitMessageAsync(tenant);

        var delivery = await tenant.WaitForAttemptsAsync(endpoint.Id(), 1);
        Assert.Equal("pending", delivery.GetProperty("status").GetString());
        Assert.Contains("refused to connect", delivery.GetProperty("last_error").GetString());
        Assert.Contains("127.0.0.1", delivery.GetProperty("last_error").GetString());
        Assert.Empty(receiver.Received);
    }
}

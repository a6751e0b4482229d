using System.Net;
using System.Net.Http.Json;
using Licenzy.Stripe;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

/// <summary>
/// <c>PUT .../stripe</c> with <c>register_webhook: true</c>: Licenzy makes the tenant's Stripe webhook
/// endpoint itself (at the stand-in), keeps its secret, and reuses it when asked again.
/// </summary>
public abstract class StripeRegistrationTests(ILicenzyHost app)
{
    public const string PublicBaseUrl = "https://licenzy.example.com/";

    [Fact]
    public async Task Registering_makes_one_endpoint_at_the_public_url_for_every_handled_event_and_its_secret_verifies_events()
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);

        var answer = await tenant.RegisterWebhookAsync();

        var endpoint = Assert.Single(app.Stripe.WebhookEndpoints, e => e.SecretKey == tenant.SecretKey);
        var url = $"https://licenzy.example.com/v1/webhooks/stripe/{tenant.TenantId}/test";
        Assert.Equal(url, endpoint.Url);
        Assert.Equal(StripeEventTypes.HandledInOrder, endpoint.EnabledEvents);
        Assert.Equal(11, endpoint.EnabledEvents.Count);
        Assert.Equal("test", answer.GetProperty("mode").GetString());
        Assert.Equal(url, answer.GetProperty("webhook_url").GetString());
        Assert.Equal(endpoint.Id, answer.GetProperty("webhook_endpoint_id").GetString());
        Assert.DoesNotContain(endpoint.Secret, answer.GetRawText());

        // The secret Stripe gave is what Ingest now checks: a purchase signed with it grants access.
        await tenant.DefineProductAsync(new { code = TestTenant.Subscription, kind = "subscription" }, "recurring");
        await tenant.BuyAsync("user_1", TestTenant.Subscription);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task Asking_again_reuses_the_endpoint_and_keeps_its_secret()
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var first = await tenant.RegisterWebhookAsync();
        var secret = tenant.WebhookSecret;
        var creations = CreationsBy(tenant);

        var second = await tenant.RegisterWebhookAsync();

        Assert.Equal(first.GetProperty("webhook_endpoint_id").GetString(), second.GetProperty("webhook_endpoint_id").GetString());
        Assert.Single(app.Stripe.WebhookEndpoints, e => e.SecretKey == tenant.SecretKey);
        Assert.Equal(creations, CreationsBy(tenant));
        Assert.Equal(secret, tenant.WebhookSecret);
        await tenant.DefineProductAsync(new { code = TestTenant.Subscription, kind = "subscription" }, "recurring");
        await tenant.BuyAsync("user_1", TestTenant.Subscription);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task An_endpoint_deleted_at_Stripe_is_made_again_and_the_old_secret_is_kept_for_the_rolling_window()
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var first = (await tenant.RegisterWebhookAsync()).GetProperty("webhook_endpoint_id").GetString()!;
        var oldSecret = tenant.WebhookSecret;
        Assert.True(app.Stripe.DeleteWebhookEndpoint(first));

        var second = (await tenant.RegisterWebhookAsync()).GetProperty("webhook_endpoint_id").GetString()!;

        Assert.NotEqual(first, second);
        var endpoint = Assert.Single(app.Stripe.WebhookEndpoints, e => e.SecretKey == tenant.SecretKey);
        Assert.Equal(second, endpoint.Id);
        Assert.NotEqual(oldSecret, tenant.WebhookSecret);
        var body = StripeEvents.Envelope("customer.created", tenant.NextEventId(), app.Clock.GetUtcNow(), livemode: false,
            new System.Text.Json.Nodes.JsonObject { ["id"] = "cus_1", ["object"] = "customer" });
        Assert.Equal(HttpStatusCode.OK, (await tenant.SendWebhookAsync(body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.SendWebhookAsync(body, Sign(body, oldSecret))).StatusCode);
    }

    [Fact]
    public async Task Registering_replaces_a_secret_the_operator_gave_and_is_not_reused_after_one_is_given_again()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var registered = (await tenant.RegisterWebhookAsync()).GetProperty("webhook_endpoint_id").GetString()!;

        await tenant.RollWebhookSecretAsync();
        var again = (await tenant.RegisterWebhookAsync()).GetProperty("webhook_endpoint_id").GetString()!;

        // The operator's own secret cleared the link to the endpoint Licenzy made, so a new one was made.
        Assert.NotEqual(registered, again);
    }

    [Theory]
    [InlineData("{\"secret_key\": \"SK\", \"register_webhook\": \"yes\"}", "register_webhook")]
    [InlineData("{\"secret_key\": \"SK\", \"register_webhook\": 1}", "register_webhook")]
    [InlineData("{\"secret_key\": \"SK\", \"register_webhook\": true, \"webhook_secret\": \"whsec_abc\"}", "register_webhook")]
    [InlineData("{\"secret_key\": \"SK\", \"register_webhook\": false}", "webhook_secret")]
    [InlineData("{\"secret_key\": \"SK\"}", "webhook_secret")]
    [InlineData("{\"secret_key\": \"SK\", \"register_webhook\": null}", "webhook_secret")]
    public async Task A_bad_body_names_the_field_and_changes_nothing(string body, string field)
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var key = $"sk_test_{Guid.NewGuid():N}";
        app.Stripe.AddKey(key, livemode: false);
        await tenant.RegisterWebhookAsync();
        var endpoints = app.Stripe.WebhookEndpoints.Count;
        var before = await StoredState.SnapshotAsync(app);

        var response = await tenant.Admin.PutAsync($"{tenant.ModePath}/stripe", Problems.Json(body.Replace("SK", key)));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
        Assert.Equal(endpoints, app.Stripe.WebhookEndpoints.Count);
    }

    [Fact]
    public async Task A_key_Stripe_rejects_registers_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);

        var response = await tenant.Admin.PutAsJsonAsync($"{tenant.ModePath}/stripe", new { secret_key = "sk_test_unknown", register_webhook = true });

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "stripe_key_invalid");
        Assert.DoesNotContain(app.Stripe.WebhookEndpoints, e => e.Url.Contains(tenant.TenantId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_key_of_the_other_mode_registers_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var key = $"sk_test_{Guid.NewGuid():N}";
        app.Stripe.AddKey(key, livemode: true);

        var response = await tenant.Admin.PutAsJsonAsync($"{tenant.ModePath}/stripe", new { secret_key = key, register_webhook = true });

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "stripe_mode_mismatch");
        Assert.DoesNotContain(app.Stripe.WebhookEndpoints, e => e.SecretKey == key);
    }

    [Fact]
    public async Task Stripe_failing_to_make_the_endpoint_is_a_stripe_error_and_stores_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var key = $"sk_test_{Guid.NewGuid():N}";
        app.Stripe.AddKey(key, livemode: false);
        app.Stripe.FailNext("/v1/webhook_endpoints", 1, 400); // a 400 is not retried, so this one failure is all used here
        var before = await StoredState.SnapshotAsync(app);

        var response = await tenant.Admin.PutAsJsonAsync($"{tenant.ModePath}/stripe", new { secret_key = key, register_webhook = true });

        await response.AssertProblemAsync(HttpStatusCode.BadGateway, "stripe_error");
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
    }

    [Fact]
    public async Task A_restricted_key_without_the_right_to_make_endpoints_is_an_invalid_key_not_a_stripe_failure()
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var key = $"rk_test_{Guid.NewGuid():N}";
        app.Stripe.AddKey(key, livemode: false);
        app.Stripe.FailNext("/v1/webhook_endpoints", 1, 403);
        var before = await StoredState.SnapshotAsync(app);

        var response = await tenant.Admin.PutAsJsonAsync($"{tenant.ModePath}/stripe", new { secret_key = key, register_webhook = true });

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "stripe_key_invalid");
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
    }

    private int CreationsBy(TestTenant tenant) =>
        app.Stripe.Requests.Count(r => r is { Method: "POST", Path: "/v1/webhook_endpoints" } && r.SecretKey == tenant.SecretKey);

    private string Sign(string body, string secret) =>
        global::Stripe.EventUtility.GenerateSignatureHeader(body, secret, app.Clock.GetUtcNow().ToUnixTimeSeconds());
}

public sealed class StripeRegistrationTestsOnEmbedded(StripeRegistrationTestsOnEmbedded.App app)
    : StripeRegistrationTests(app), IClassFixture<StripeRegistrationTestsOnEmbedded.App>
{
    public sealed class App : LicenzyApp
    {
        public App() => Settings["Licenzy:PublicBaseUrl"] = PublicBaseUrl;
    }
}

public sealed class StripeRegistrationTestsOnDapr(StripeRegistrationTestsOnDapr.App app)
    : StripeRegistrationTests(app), IClassFixture<StripeRegistrationTestsOnDapr.App>
{
    public sealed class App : LicenzyAppOnDapr
    {
        public App() => Settings["Licenzy:PublicBaseUrl"] = PublicBaseUrl;
    }
}

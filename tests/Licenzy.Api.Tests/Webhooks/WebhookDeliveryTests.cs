using System.Net;
using System.Text.Json;
using Licenzy.Api.Webhooks;
using Licenzy.Testing;

namespace Licenzy.Api.Tests.Webhooks;

/// <summary>
/// Messages committed through the entry point the subject writer calls, delivered to a receiver on
/// 127.0.0.1 (private networks allowed), with the app's fake clock moving through the retries.
/// </summary>
public abstract class WebhookDeliveryTests(PrivateNetworksApp app)
{
    [Fact]
    public async Task A_committed_message_arrives_signed_as_the_standardwebhooks_package_verifies()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var endpoint = await tenant.CreateEndpointAsync(receiver.Url("/hook"));
        var secret = endpoint.GetProperty("secret").GetString()!;

        var committedAt = app.Clock.GetUtcNow();
        var messageId = await app.CommitMessageAsync(tenant, data: new { subject_ref = "user_1", version = 7 });

        var webhook = (await receiver.WaitForAsync("/hook")).Single();
        Assert.Equal(messageId, webhook.Headers["webhook-id"]);
        Assert.Equal(committedAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), webhook.Headers["webhook-timestamp"]);
        Assert.StartsWith("application/json", webhook.Headers["content-type"]);
        var body = JsonDocument.Parse(webhook.Body).RootElement;
        Assert.Equal(messageId, body.GetProperty("id").GetString());
        Assert.Equal("entitlements.updated", body.GetProperty("type").GetString());
        Assert.Equal(tenant.TenantId, body.GetProperty("tenant_id").GetString());
        Assert.Equal("test", body.GetProperty("mode").GetString());
        Assert.Equal(committedAt, body.GetProperty("created_at").GetDateTimeOffset());
        Assert.Equal(7, body.GetProperty("data").GetProperty("version").GetInt32());

        Assert.Equal(["ok"], await StandardWebhooksVerifier.VerifyAsync((secret, webhook)));
        var tampered = webhook with { Body = webhook.Body.Replace("\"version\":7", "\"version\":8", StringComparison.Ordinal) };
        Assert.NotEqual("ok", (await StandardWebhooksVerifier.VerifyAsync((secret, tampered))).Single());

        var delivery = await tenant.WaitForDeliveryAsync(endpoint.Id(), d => d.GetProperty("status").GetString() == "delivered", "delivered");
        Assert.Equal(messageId, delivery.GetProperty("event_id").GetString());
        Assert.Equal("entitlements.updated", delivery.GetProperty("type").GetString());
        Assert.Equal(1, delivery.GetProperty("attempts").GetInt32());
        Assert.Equal(200, delivery.GetProperty("last_status_code").GetInt32());
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("next_attempt_at").ValueKind);
    }

    [Fact]
    public async Task A_message_goes_only_to_endpoints_subscribed_to_its_type()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        await tenant.CreateEndpointAsync(receiver.Url("/licenses"), ["license.created"]);
        var all = await tenant.CreateEndpointAsync(receiver.Url("/all"));

        await app.CommitMessageAsync(tenant, WebhookEventTypes.EntitlementsUpdated);
        await tenant.WaitForDeliveryAsync(all.Id(), d => d.GetProperty("status").GetString() == "delivered", "delivered");

        Assert.Single(receiver.At("/all"));
        Assert.Empty(receiver.At("/licenses"));
        Assert.Single(await tenant.DeliveriesAsync());
    }

    [Fact]
    public async Task While_a_secret_rotates_messages_carry_a_signature_for_each_secret_for_24_hours()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var endpoint = await tenant.CreateEndpointAsync(receiver.Url("/rotating"));
        var oldSecret = endpoint.GetProperty("secret").GetString()!;
        var newSecret = (await (await tenant.Admin.PostAsync($"{tenant.ModePath}/webhook-endpoints/{endpoint.Id()}/rotate-secret", null))
            .OkJsonAsync()).GetProperty("secret").GetString()!;

        await app.CommitMessageAsync(tenant);
        var during = (await receiver.WaitForAsync("/rotating")).Single();
        app.Clock.Advance(WebhookEndpoints.RotationOverlap + TimeSpan.FromSeconds(1));
        await app.CommitMessageAsync(tenant);
        var after = (await receiver.WaitForAsync("/rotating", 2))[1];

        Assert.Equal(2, during.Headers["webhook-signature"].Split(' ').Length);
        Assert.Equal(["ok", "ok", "ok"], await StandardWebhooksVerifier.VerifyAsync((oldSecret, during), (newSecret, during), (newSecret, after)));
        Assert.Single(after.Headers["webhook-signature"].Split(' '));
        Assert.NotEqual("ok", (await StandardWebhooksVerifier.VerifyAsync((oldSecret, after))).Single());
    }

    [Fact]
    public async Task A_failing_endpoint_is_retried_through_the_schedule_then_failed_and_a_manual_retry_delivers()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.AnswerStatus("/down", 500);
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var endpoint = await tenant.CreateEndpointAsync(receiver.Url("/down"));
        var messageId = await app.CommitMessageAsync(tenant);

        var schedule = WebhookOptions.DefaultRetrySchedule;
        var delivery = await tenant.WaitForAttemptsAsync(endpoint.Id(), 1);
        var started = app.Clock.GetUtcNow();
        for (var retry = 0; retry < schedule.Count; retry++)
        {
            Assert.Equal("pending", delivery.GetProperty("status").GetString());
            Assert.Equal(500, delivery.GetProperty("last_status_code").GetInt32());
            var due = delivery.GetProperty("next_attempt_at").GetDateTimeOffset();
            // Growing delays with jitter: never earlier than the schedule, at most a fifth later.
            var wait = due - app.Clock.GetUtcNow();
            Assert.InRange(wait, schedule[retry], schedule[retry] * 1.2 + TimeSpan.FromSeconds(1));
            app.Clock.Advance(wait);
            delivery = await tenant.WaitForAttemptsAsync(endpoint.Id(), retry + 2);
        }

        Assert.Equal("failed", delivery.GetProperty("status").GetString());
        Assert.Equal(schedule.Count + 1, delivery.GetProperty("attempts").GetInt32());
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("next_attempt_at").ValueKind);
        Assert.True(app.Clock.GetUtcNow() - started >= TimeSpan.FromHours(24));
        Assert.All(receiver.At("/down"), webhook => Assert.Equal(messageId, webhook.Headers["webhook-id"]));
        Assert.Equal(delivery.Id(), Assert.Single(await tenant.DeliveriesAsync("failed")).Id());
        Assert.Empty(await tenant.DeliveriesAsync("pending"));

        receiver.AnswerStatus("/down", 204);
        var retry202 = await tenant.Admin.PostAsync($"{tenant.ModePath}/webhook-deliveries/{delivery.Id()}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry202.StatusCode);
        var delivered = await tenant.WaitForDeliveryAsync(endpoint.Id(), d => d.GetProperty("status").GetString() == "delivered", "delivered");
        Assert.Equal(schedule.Count + 2, delivered.GetProperty("attempts").GetInt32());
        Assert.Equal(204, delivered.GetProperty("last_status_code").GetInt32());
    }

    [Fact]
    public async Task An_endpoint_that_does_not_answer_within_15_seconds_is_retried()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Hang("/slow");
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var endpoint = await tenant.CreateEndpointAsync(receiver.Url("/slow"));
        await app.CommitMessageAsync(tenant);
        await receiver.WaitForAsync("/slow");

        app.Clock.Advance(WebhookOptions.AttemptTimeout);
        var timedOut = await tenant.WaitForAttemptsAsync(endpoint.Id(), 1);
        receiver.AnswerStatus("/slow", 200);
        app.Clock.Advance(timedOut.GetProperty("next_attempt_at").GetDateTimeOffset() - app.Clock.GetUtcNow());
        var delivered = await tenant.WaitForDeliveryAsync(endpoint.Id(), d => d.GetProperty("status").GetString() == "delivered", "delivered");

        Assert.Equal("pending", timedOut.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, timedOut.GetProperty("last_status_code").ValueKind);
        Assert.Contains("15 seconds", timedOut.GetProperty("last_error").GetString());
        Assert.Equal(2, delivered.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task A_redirect_is_a_failed_attempt_and_is_not_followed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.AnswerRedirect("/moved", receiver.Url("/followed", host: "10.0.0.1"));
        receiver.AnswerRedirect("/moved-here", receiver.Url("/followed"));
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var toPrivate = await tenant.CreateEndpointAsync(receiver.Url("/moved"));
        var toReceiver = await tenant.CreateEndpointAsync(receiver.Url("/moved-here"));

        await app.CommitMessageAsync(tenant);

        foreach (var endpoint in new[] { toPrivate, toReceiver })
        {
            var delivery = await tenant.WaitForAttemptsAsync(endpoint.Id(), 1);
            Assert.Equal("pending", delivery.GetProperty("status").GetString());
            Assert.Equal(302, delivery.GetProperty("last_status_code").GetInt32());
            Assert.Contains("not followed", delivery.GetProperty("last_error").GetString());
        }
        Assert.Empty(receiver.At("/followed"));
    }

    [Fact]
    public async Task An_endpoint_that_hangs_does_not_hold_up_another_endpoint_or_tenant()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Hang("/hangs");
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var other = await TestTenant.CreateAsync(app, connect: false);
        await tenant.CreateEndpointAsync(receiver.Url("/hangs"));
        var sameTenant = await tenant.CreateEndpointAsync(receiver.Url("/same-tenant"));
        var otherTenant = await other.CreateEndpointAsync(receiver.Url("/other-tenant"));

        // Several messages, more than one endpoint's share of attempts at a time.
        for (var i = 0; i < WebhookDispatcher.MaxInFlightPerEndpoint + 2; i++) await app.CommitMessageAsync(tenant);
        await receiver.WaitForAsync("/hangs", WebhookDispatcher.MaxInFlightPerEndpoint);
        await app.CommitMessageAsync(other);

        await receiver.WaitForAsync("/same-tenant", WebhookDispatcher.MaxInFlightPerEndpoint + 2);
        await receiver.WaitForAsync("/other-tenant");
        await other.WaitForDeliveryAsync(otherTenant.Id(), d => d.GetProperty("status").GetString() == "delivered", "delivered");
        await tenant.WaitForDeliveryAsync(sameTenant.Id(), d => d.GetProperty("status").GetString() == "delivered", "delivered");
        // The hanging endpoint still holds its attempts open, at most its share of them.
        Assert.Equal(WebhookDispatcher.MaxInFlightPerEndpoint, receiver.At("/hangs").Count());
    }

    [Fact]
    public async Task A_delivery_of_a_deleted_endpoint_fails_and_an_unknown_delivery_is_404()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.AnswerStatus("/gone", 503);
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var endpoint = await tenant.CreateEndpointAsync(receiver.Url("/gone"));
        await app.CommitMessageAsync(tenant);
        var first = await tenant.WaitForAttemptsAsync(endpoint.Id(), 1);

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.DeleteAsync($"{tenant.ModePath}/webhook-endpoints/{endpoint.Id()}")).StatusCode);
        app.Clock.Advance(first.GetProperty("next_attempt_at").GetDateTimeOffset() - app.Clock.GetUtcNow());
        var failed = await tenant.WaitForDeliveryAsync(endpoint.Id(), d => d.GetProperty("status").GetString() == "failed", "failed");
        var unknown = await tenant.Admin.PostAsync($"{tenant.ModePath}/webhook-deliveries/dlv_nosuch/retry", null);
        var badStatus = await tenant.Admin.GetAsync($"{tenant.ModePath}/webhook-deliveries?status=lost");

        Assert.Contains("deleted", failed.GetProperty("last_error").GetString());
        Assert.Single(receiver.At("/gone"));
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_webhook_delivery");
        await badStatus.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }
}

public sealed class WebhookDeliveryTestsOnEmbedded(PrivateNetworksApp app) : WebhookDeliveryTests(app), IClassFixture<PrivateNetworksApp>;

/// <summary>
/// On Dapr the messages are handed over in process (the sidecar's state API cannot be scanned for
/// them); everything after the hand-over is the same.
/// </summary>
public sealed class WebhookDeliveryTestsOnDapr(PrivateNetworksAppOnDapr app) : WebhookDeliveryTests(app), IClassFixture<PrivateNetworksAppOnDapr>;

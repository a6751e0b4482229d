using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Testing;

namespace Licenzy.Api.Tests.Webhooks;

/// <summary>
/// Licentric's loop end to end: a purchase of a license policy reaches the tenant's app as a
/// signed <c>license.created</c> carrying the key, the buyer's email and the policy name; later
/// lifecycle rows arrive as <c>license.updated</c> with <c>previous_status</c>; every change as
/// <c>entitlements.updated</c> with its version.
/// </summary>
public abstract class LicenseWebhookTests(PrivateNetworksApp app)
{
    private const string Starter = "STARTER";

    private DateTimeOffset Now => app.Clock.GetUtcNow();

    /// <summary>An instant as a Stripe event carries it: whole seconds.</summary>
    private static DateTimeOffset Seconds(DateTimeOffset at) => DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds());

    private async Task<(TestTenant Tenant, WebhookReceiver Receiver, string Secret)> LicentricAsync(string path = "/hook")
    {
        var receiver = await WebhookReceiver.StartAsync();
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.DefineProductAsync(new
        {
            code = Starter, kind = "subscription", name = "Starter Plan", issue_license = true, grace_period_days = 3,
            features = new[] { "export", "api_access" },
        }, "recurring");
        var endpoint = await tenant.CreateEndpointAsync(receiver.Url(path));
        return (tenant, receiver, endpoint.GetProperty("secret").GetString()!);
    }

    /// <summary>The messages of <paramref name="type"/> received so far, by their bodies.</summary>
    private static List<JsonElement> Bodies(WebhookReceiver receiver, string type) =>
        receiver.Received.Select(r => JsonDocument.Parse(r.Body).RootElement).Where(b => b.GetProperty("type").GetString() == type).ToList();

    private static async Task<JsonElement> WaitForAsync(WebhookReceiver receiver, string type, Func<JsonElement, bool> match)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var found = Bodies(receiver, type).FirstOrDefault(match);
            if (found.ValueKind == JsonValueKind.Object) return found;
            if (watch.Elapsed > TimeSpan.FromSeconds(30))
                throw new TimeoutException($"no {type} arrived that matches; received: {string.Join("\n", receiver.Received.Select(r => r.Body))}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_purchase_reaches_the_app_as_a_signed_license_created_with_key_email_and_policy()
    {
        var (tenant, receiver, secret) = await LicentricAsync();
        await using var __ = receiver;
        await tenant.BuyAsync("user_1", Starter, email: "ada@example.com");

        var created = await WaitForAsync(receiver, "license.created", _ => true);
        var license = created.GetProperty("data");
        Assert.Equal("ada@example.com", license.GetProperty("email").GetString());
        Assert.Equal("Starter Plan", license.GetProperty("policy").GetProperty("name").GetString());
        Assert.Equal("user_1", license.GetProperty("subject_ref").GetString());
        Assert.Equal(tenant.TenantId, created.GetProperty("tenant_id").GetString());
        var key = license.GetProperty("key").GetString()!;

        var listed = (await (await tenant.Runtime.GetAsync("/v1/licenses?subject_ref=user_1")).OkJsonAsync()).GetProperty("licenses")[0];
        Assert.Equal(listed.GetProperty("id").GetString(), license.GetProperty("id").GetString());
        Assert.Equal(key, listed.GetProperty("key").GetString());
        var validated = await (await tenant.Runtime.PostAsJsonAsync("/v1/licenses/validate", new { key })).OkJsonAsync();
        Assert.Equal("valid", validated.GetProperty("code").GetString());

        var updated = await WaitForAsync(receiver, "entitlements.updated", b => b.GetProperty("data").GetProperty("version").GetInt64() == 1);
        Assert.True(updated.GetProperty("data").GetProperty("has_access").GetBoolean());

        var webhook = receiver.Received.Single(r => r.Body.Contains("\"license.created\"", StringComparison.Ordinal));
        Assert.Equal(created.GetProperty("id").GetString(), webhook.Headers["webhook-id"]);
        Assert.Equal(["ok"], await StandardWebhooksVerifier.VerifyAsync((secret, webhook)));
    }

    [Fact]
    public async Task Cancellation_then_a_refund_arrive_as_license_updated_with_the_previous_status()
    {
        var (tenant, receiver, _) = await LicentricAsync();
        await using var __ = receiver;
        var session = await tenant.BuyAsync("user_1", Starter);
        var subscriptionId = "sub_" + session.Id;
        await tenant.DeliverAsync(StripeEvents.Invoice("invoice.paid", tenant.NextEventId(), Now, subscriptionId, session.Metadata,
            Now.AddDays(30), "pi_first_" + session.Id));
        await WaitForAsync(receiver, "license.created", _ => true);

        var canceledAt = Now.AddDays(2);
        app.Clock.SetUtcNow(canceledAt);
        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.deleted", tenant.NextEventId(), canceledAt, subscriptionId,
            "canceled", session.Metadata, canceledAt.AddDays(-2), canceledAt.AddDays(28), canceledAt: canceledAt));
        var inGrace = (await WaitForAsync(receiver, "license.updated", b => b.GetProperty("data").GetProperty("grace_ends_at").ValueKind == JsonValueKind.String))
            .GetProperty("data");
        Assert.Equal("active", inGrace.GetProperty("previous_status").GetString());
        Assert.Equal("active", inGrace.GetProperty("status").GetString());
        Assert.True(inGrace.GetProperty("valid").GetBoolean());
        Assert.Equal(canceledAt.AddDays(3), inGrace.GetProperty("grace_ends_at").GetDateTimeOffset());

        await tenant.DeliverAsync(StripeEvents.ChargeRefunded(tenant.NextEventId(), Now, "pi_first_" + session.Id, amountRefunded: 1900));
        var revoked = (await WaitForAsync(receiver, "license.updated", b => b.GetProperty("data").GetProperty("status").GetString() == "revoked"))
            .GetProperty("data");
        Assert.Equal("active", revoked.GetProperty("previous_status").GetString());
        Assert.False(revoked.GetProperty("valid").GetBoolean());
        Assert.True(revoked.GetProperty("version").GetInt64() > inGrace.GetProperty("version").GetInt64());
    }

    /// <summary>Waits until the delivery log holds a notice due at <paramref name="at"/> (messages are fanned out just after their commit).</summary>
    private static async Task WaitForNoticeAsync(TestTenant tenant, DateTimeOffset at)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!(await tenant.DeliveriesAsync("pending")).Any(d => d.GetProperty("next_attempt_at").GetDateTimeOffset() == at))
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"no notice due at {at:O} in the delivery log");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task The_end_of_a_grace_period_arrives_as_license_updated_expired_when_it_comes()
    {
        var (tenant, receiver, _) = await LicentricAsync();
        await using var __ = receiver;
        var session = await tenant.BuyAsync("user_1", Starter);
        var subscriptionId = "sub_" + session.Id;
        var canceledAt = Seconds(Now.AddDays(1));
        app.Clock.SetUtcNow(canceledAt);
        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.deleted", tenant.NextEventId(), canceledAt, subscriptionId,
            "canceled", session.Metadata, canceledAt.AddDays(-1), canceledAt.AddDays(29), canceledAt: canceledAt));
        await WaitForAsync(receiver, "license.updated", b => b.GetProperty("data").GetProperty("grace_ends_at").ValueKind == JsonValueKind.String);
        Assert.DoesNotContain(Bodies(receiver, "license.updated"), b => b.GetProperty("data").GetProperty("status").GetString() == "expired");
        await WaitForNoticeAsync(tenant, canceledAt.AddDays(3));

        app.Clock.SetUtcNow(canceledAt.AddDays(3));

        var expired = (await WaitForAsync(receiver, "license.updated", b => b.GetProperty("data").GetProperty("status").GetString() == "expired"))
            .GetProperty("data");
        Assert.Equal("active", expired.GetProperty("previous_status").GetString());
        Assert.False(expired.GetProperty("valid").GetBoolean());
        var key = expired.GetProperty("key").GetString()!;
        var validated = await (await tenant.Runtime.PostAsJsonAsync("/v1/licenses/validate", new { key })).OkJsonAsync();
        Assert.Equal("expired", validated.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Consumes_do_not_announce_a_clock_change_again_and_it_is_told_with_the_version_it_comes_at()
    {
        var (tenant, receiver, _) = await LicentricAsync();
        await using var __ = receiver;
        var session = await tenant.BuyAsync("user_1", Starter);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        var canceledAt = Seconds(Now.AddDays(1));
        app.Clock.SetUtcNow(canceledAt);
        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.deleted", tenant.NextEventId(), canceledAt, "sub_" + session.Id,
            "canceled", session.Metadata, canceledAt.AddDays(-1), canceledAt.AddDays(29), canceledAt: canceledAt));
        await WaitForNoticeAsync(tenant, canceledAt.AddDays(3));

        // Three consumes change the subject (and are told as entitlements.updated), not the grace's end.
        for (var i = 0; i < 3; i++)
        {
            var consume = new HttpRequestMessage(HttpMethod.Post, "/v1/usage/consume") { Content = JsonContent.Create(new { subject_ref = "user_1", units = 1 }) };
            consume.Headers.Add("Idempotency-Key", $"k{i}");
            await (await tenant.Runtime.SendAsync(consume)).OkJsonAsync();
        }
        var version = (await tenant.EntitlementsAsync("user_1")).GetProperty("version").GetInt64();
        await WaitForAsync(receiver, "entitlements.updated", b => b.GetProperty("data").GetProperty("version").GetInt64() == version);
        Assert.Single(await tenant.DeliveriesAsync("pending"),
            d => d.GetProperty("next_attempt_at").GetDateTimeOffset() == canceledAt.AddDays(3));

        // When the grace ends the one notice is told as the subject stands then: its version now, not when it was written.
        app.Clock.SetUtcNow(canceledAt.AddDays(3));
        var expired = (await WaitForAsync(receiver, "license.updated", b => b.GetProperty("data").GetProperty("status").GetString() == "expired"))
            .GetProperty("data");
        Assert.Equal(version, expired.GetProperty("version").GetInt64());
        Assert.Equal("active", expired.GetProperty("previous_status").GetString());
        Assert.Single(Bodies(receiver, "license.updated"), b => b.GetProperty("data").GetProperty("status").GetString() == "expired");
    }

    [Fact]
    public async Task A_notice_the_subject_outran_is_withdrawn_and_never_sent()
    {
        var receiver = await WebhookReceiver.StartAsync();
        await using var __ = receiver;
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.DefineProductAsync(new { code = Starter, kind = "subscription", name = "Starter", issue_license = true, payment_failure_grace_days = 2 },
            "recurring");
        await tenant.CreateEndpointAsync(receiver.Url("/hook"), ["license.updated"]);
        var session = await tenant.BuyAsync("user_1", Starter);
        var subscriptionId = "sub_" + session.Id;
        await tenant.DeliverAsync(StripeEvents.Invoice("invoice.paid", tenant.NextEventId(), Now, subscriptionId, session.Metadata,
            Now.AddDays(30), "pi_first_" + session.Id));
        app.Clock.SetUtcNow(Seconds(Now.AddDays(30)));
        var failedAt = Now;
        await tenant.DeliverAsync(StripeEvents.Invoice("invoice.payment_failed", tenant.NextEventId(), failedAt, subscriptionId, session.Metadata,
            failedAt.AddDays(30), "pi_failed_" + session.Id));
        await WaitForNoticeAsync(tenant, failedAt.AddDays(2));

        // Paid within the grace: the notice of its end (suspended) no longer holds.
        app.Clock.Advance(TimeSpan.FromDays(1));
        await tenant.DeliverAsync(StripeEvents.Invoice("invoice.paid", tenant.NextEventId(), Now, subscriptionId, session.Metadata,
            Now.AddDays(30), "pi_retry_" + session.Id));
        app.Clock.SetUtcNow(failedAt.AddDays(2));

        var watch = System.Diagnostics.Stopwatch.StartNew();
        while ((await tenant.DeliveriesAsync()).Any(d => d.GetProperty("next_attempt_at").ValueKind == JsonValueKind.String
            && d.GetProperty("next_attempt_at").GetDateTimeOffset() == failedAt.AddDays(2)))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the outrun notice was neither withdrawn nor sent");
            await Task.Delay(10);
        }
        Assert.DoesNotContain(Bodies(receiver, "license.updated"), b => b.GetProperty("data").GetProperty("status").GetString() == "suspended");
    }

    [Fact]
    public async Task An_event_that_changes_no_license_sends_no_license_updated()
    {
        var (tenant, receiver, _) = await LicentricAsync();
        await using var __ = receiver;
        var session = await tenant.BuyAsync("user_1", Starter);
        var subscriptionId = "sub_" + session.Id;
        await WaitForAsync(receiver, "license.created", _ => true);

        // The period end moves the license's expires_at: that is a license.updated.
        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.updated", tenant.NextEventId(), Now, subscriptionId, "active",
            session.Metadata, Now, Now.AddDays(30)));
        var dated = (await WaitForAsync(receiver, "license.updated", _ => true)).GetProperty("data");
        Assert.Equal(Now.AddDays(30), dated.GetProperty("expires_at").GetDateTimeOffset());

        // The same period reported again changes the subject's facts (version 3), not the license.
        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.updated", tenant.NextEventId(), Now.AddSeconds(1), subscriptionId,
            "active", session.Metadata, Now, Now.AddDays(30)));
        // A failed payment then does change it (version 4). Messages are fanned out in the order
        // they were committed, so once this one is here any of version 3 would be in the log.
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await tenant.DeliverAsync(StripeEvents.Invoice("invoice.payment_failed", tenant.NextEventId(), Now, subscriptionId, session.Metadata,
            Now.AddDays(30), "pi_failed_" + session.Id));
        var suspended = (await WaitForAsync(receiver, "license.updated", b => b.GetProperty("data").GetProperty("status").GetString() == "suspended"))
            .GetProperty("data");
        Assert.Equal(4, suspended.GetProperty("version").GetInt64());

        // Notices of what the clock will do later (the period's end) wait in the log as pending; the rest were sent.
        var told = (await tenant.DeliveriesAsync()).Where(d => d.GetProperty("type").GetString() == "license.updated"
            && !(d.GetProperty("next_attempt_at").ValueKind == JsonValueKind.String && d.GetProperty("next_attempt_at").GetDateTimeOffset() > Now)).ToList();
        Assert.Equal(2, told.Count);
    }

    [Fact]
    public async Task Message_bodies_are_stored_encrypted_so_a_license_key_never_sits_in_clear()
    {
        var (tenant, receiver, _) = await LicentricAsync("/down");
        await using var __ = receiver;
        receiver.AnswerStatus("/down", 503);
        await tenant.BuyAsync("user_1", Starter, email: "grace.hopper@example.com");
        var created = await WaitForAsync(receiver, "license.created", _ => true);
        await tenant.WaitForAttemptsAsync((await tenant.DeliveriesAsync())[0].GetProperty("endpoint_id").GetString()!, 1);

        var stored = string.Join("\n", await StoredState.SnapshotAsync(app));
        Assert.DoesNotContain(created.GetProperty("data").GetProperty("key").GetString()!, stored);
        Assert.Contains(await tenant.DeliveriesAsync("pending"), d => d.GetProperty("type").GetString() == "license.created");
    }

    [Fact]
    public async Task An_endpoint_created_after_changes_that_told_no_one_hears_the_next_change()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);     // a change with no endpoint to tell

        await tenant.CreateEndpointAsync(receiver.Url("/late"));
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        var told = JsonDocument.Parse((await receiver.WaitForAsync("/late")).Single().Body).RootElement;
        Assert.Equal("entitlements.updated", told.GetProperty("type").GetString());
        Assert.Equal(2, told.GetProperty("data").GetProperty("version").GetInt64());
    }
}

public sealed class LicenseWebhookTestsOnEmbedded(PrivateNetworksApp app) : LicenseWebhookTests(app), IClassFixture<PrivateNetworksApp>;

public sealed class LicenseWebhookTestsOnDapr(PrivateNetworksAppOnDapr app) : LicenseWebhookTests(app), IClassFixture<PrivateNetworksAppOnDapr>;

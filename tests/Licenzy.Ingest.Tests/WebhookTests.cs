using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Licenzy.Infrastructure;
using Licenzy.Testing;
using StripeNet = global::Stripe;

namespace Licenzy.Ingest.Tests;

public abstract class WebhookTests(ILicenzyHost app)
{
    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.True(problem.TryGetProperty("trace_id", out var traceId) && traceId.GetString() is { Length: > 0 }, body);
    }

    private async Task<(TestTenant Tenant, string Body, string EventId)> PaidCheckoutAsync()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var session = await tenant.StartCheckoutAsync("user_1", TestTenant.Subscription);
        var eventId = tenant.NextEventId();
        return (tenant, StripeEvents.CheckoutSession("checkout.session.completed", eventId, app.Clock.GetUtcNow(), session, "paid"), eventId);
    }

    [Fact]
    public async Task A_signed_event_is_stored_queued_and_applied()
    {
        var (tenant, body, eventId) = await PaidCheckoutAsync();

        var response = await tenant.SendWebhookAsync(body);

        var received = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(eventId, received.GetProperty("event_id").GetString());
        Assert.False(received.GetProperty("duplicate").GetBoolean());
        await app.Deliveries.WaitAsync(Topics.BillingEvents, eventId);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
    }

    [Theory]
    [InlineData("text/plain; charset=utf-8")]
    [InlineData(null)]
    public async Task The_webhook_route_reads_stripes_raw_body_whatever_its_content_type(string? contentType)
    {
        var (tenant, body, eventId) = await PaidCheckoutAsync();
        var request = tenant.WebhookRequest(body);
        request.Content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(body));
        if (contentType is not null) request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);

        var response = await app.IngestClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await app.Deliveries.WaitAsync(Topics.BillingEvents, eventId);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task A_repeated_event_is_acknowledged_and_changes_nothing()
    {
        var (tenant, body, eventId) = await PaidCheckoutAsync();
        await tenant.DeliverAsync(body);

        var again = await tenant.SendWebhookAsync(body);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
        Assert.Equal(1, (await tenant.EntitlementsAsync("user_1")).GetProperty("version").GetInt64());
    }

    public static TheoryData<string> BadSignatures() => new()
    {
        "",
        "garbage",
        "t=notanumber,v1=abc",
        "v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
    };

    [Theory]
    [MemberData(nameof(BadSignatures))]
    public async Task A_bad_signature_is_refused_and_nothing_is_stored(string signature)
    {
        var (tenant, body, eventId) = await PaidCheckoutAsync();

        var refused = await tenant.SendWebhookAsync(body, signature);

        await AssertProblemAsync(refused, HttpStatusCode.BadRequest, "invalid_signature");
        var accepted = await tenant.SendWebhookAsync(body);
        Assert.False((await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
    }

    [Fact]
    public async Task A_missing_signature_header_is_refused()
    {
        var (tenant, body, _) = await PaidCheckoutAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/stripe/{tenant.TenantId}/test") { Content = new StringContent(body) };

        var response = await app.IngestClient().SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_signature");
    }

    [Fact]
    public async Task Another_secret_a_tampered_body_or_a_stale_timestamp_is_refused()
    {
        var (tenant, body, _) = await PaidCheckoutAsync();
        var now = app.Clock.GetUtcNow();
        string Sign(string secret, DateTimeOffset at) => StripeNet.EventUtility.GenerateSignatureHeader(body, secret, at.ToUnixTimeSeconds());

        var wrongSecret = await tenant.SendWebhookAsync(body, Sign("whsec_other", now));
        var tampered = await tenant.SendWebhookAsync(body.Replace("\"paid\"", "\"PAID\""), Sign(tenant.WebhookSecret, now));
        var stale = await tenant.SendWebhookAsync(body, Sign(tenant.WebhookSecret, now.AddSeconds(-301)));
        var future = await tenant.SendWebhookAsync(body, Sign(tenant.WebhookSecret, now.AddSeconds(301)));

        foreach (var response in new[] { wrongSecret, tampered, stale, future })
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_signature");
    }

    [Fact]
    public async Task A_secret_of_another_mode_or_tenant_does_not_verify()
    {
        var (tenant, body, _) = await PaidCheckoutAsync();
        var other = await TestTenant.CreateAsync(app);

        var response = await other.SendWebhookAsync(body, path: $"/v1/webhooks/stripe/{tenant.TenantId}/test");

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_signature");
    }

    [Fact]
    public async Task Unknown_endpoints_are_refused()
    {
        var (tenant, body, _) = await PaidCheckoutAsync();

        var unknownTenant = await tenant.SendWebhookAsync(body, path: "/v1/webhooks/stripe/ten_nobody/test");
        var notConnectedMode = await tenant.SendWebhookAsync(body, path: $"/v1/webhooks/stripe/{tenant.TenantId}/live");
        var badMode = await tenant.SendWebhookAsync(body, path: $"/v1/webhooks/stripe/{tenant.TenantId}/prod");

        await AssertProblemAsync(unknownTenant, HttpStatusCode.NotFound, "webhook_endpoint_unknown");
        await AssertProblemAsync(notConnectedMode, HttpStatusCode.NotFound, "webhook_endpoint_unknown");
        await AssertProblemAsync(badMode, HttpStatusCode.BadRequest, "invalid_mode");
    }

    [Fact]
    public async Task An_event_of_the_other_mode_is_refused()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var session = await tenant.StartCheckoutAsync("user_1", TestTenant.Subscription);
        var body = StripeEvents.CheckoutSession("checkout.session.completed", tenant.NextEventId(), app.Clock.GetUtcNow(), session, "paid", livemode: true);

        var response = await tenant.SendWebhookAsync(body);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "livemode_mismatch");
    }

    [Fact]
    public async Task Bytes_that_are_not_UTF_8_are_refused_even_where_they_would_read_as_the_signed_text()
    {
        // A lossy decoding reads the invalid byte 0xFF as U+FFFD, the very character that was signed:
        // the signature would then pass for bytes Stripe never sent.
        var (tenant, body, _) = await PaidCheckoutAsync();
        body = body.Replace("\"cus_M5wW9RPFk9xNZ5\"", "\"cus_\uFFFD\"", StringComparison.Ordinal);
        var signature = StripeNet.EventUtility.GenerateSignatureHeader(body, tenant.WebhookSecret, app.Clock.GetUtcNow().ToUnixTimeSeconds());
        var signed = System.Text.Encoding.UTF8.GetBytes(body);
        var replacement = System.Text.Encoding.UTF8.GetBytes("\uFFFD");
        var at = signed.AsSpan().IndexOf(replacement);
        Assert.True(at > 0);
        byte[] invalid = [.. signed[..at], 0xFF, .. signed[(at + replacement.Length)..]];
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/stripe/{tenant.TenantId}/test") { Content = new ByteArrayContent(invalid) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("Stripe-Signature", signature);

        var response = await app.IngestClient().SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_event");
        var accepted = await tenant.SendWebhookAsync(body, signature);
        Assert.False((await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
    }

    [Fact]
    public async Task A_signed_body_that_is_not_an_event_is_refused()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var response = await tenant.SendWebhookAsync("{\"hello\": \"world\"}");

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_event");
    }

    [Fact]
    public async Task An_oversized_body_is_refused()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var response = await tenant.SendWebhookAsync("{\"pad\": \"" + new string('x', 1024 * 1024) + "\"}");

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }

    [Fact]
    public async Task An_event_naming_an_unknown_product_is_a_dead_letter_at_once_with_its_reason()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var eventId = tenant.NextEventId();
        var metadata = new Dictionary<string, string>
        {
            ["licenzy_tenant"] = tenant.TenantId, ["licenzy_mode"] = "test", ["licenzy_subject"] = "user_1", ["licenzy_product"] = "NO_SUCH_PRODUCT",
        };
        var body = StripeEvents.CheckoutSession("checkout.session.completed", eventId, app.Clock.GetUtcNow(), "cs_test_unknown", metadata, "payment", "paid");

        await tenant.DeliverAsync(body);
        var (final, retries) = await app.Deliveries.WaitWithRetriesAsync(Topics.BillingEvents, eventId);
        await app.Deliveries.WaitAsync(Topics.BillingEventsDeadLetter, eventId);

        Assert.Equal((Licenzy.Infrastructure.PubSub.DeliveryStatus.Drop, 0), (final.Status, retries));
        var letters = await (await tenant.Admin.GetAsync($"{tenant.ModePath}/dead-letters")).Content.ReadFromJsonAsync<JsonElement>();
        var letter = letters.GetProperty("events").EnumerateArray().Single();
        Assert.Equal(eventId, letter.GetProperty("event_id").GetString());
        Assert.Equal("checkout.session.completed", letter.GetProperty("type").GetString());
        Assert.Contains("NO_SUCH_PRODUCT", letter.GetProperty("reason").GetString());
        var live = await (await tenant.Admin.GetAsync($"/v1/admin/tenants/{tenant.TenantId}/modes/live/dead-letters")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Empty(live.GetProperty("events").EnumerateArray());
    }

    [Theory]
    [InlineData("user_\\ud800")]
    [InlineData("user_\\udc00x")]
    public async Task A_signed_event_with_an_unpaired_surrogate_is_a_dead_letter_at_once(string subjectJson)
    {
        var tenant = await TestTenant.CreateAsync(app);
        var eventId = tenant.NextEventId();
        var metadata = new Dictionary<string, string>
        {
            ["licenzy_tenant"] = tenant.TenantId, ["licenzy_mode"] = "test", ["licenzy_subject"] = "SUBJECT", ["licenzy_product"] = TestTenant.Subscription,
        };
        var body = StripeEvents.CheckoutSession("checkout.session.completed", eventId, app.Clock.GetUtcNow(), "cs_test_surrogate", metadata, "subscription", "paid")
            .Replace("\"SUBJECT\"", "\"" + subjectJson + "\"");

        Assert.Equal(HttpStatusCode.OK, (await tenant.SendWebhookAsync(body)).StatusCode);
        var (final, retries) = await app.Deliveries.WaitWithRetriesAsync(Topics.BillingEvents, eventId);

        Assert.Equal((Licenzy.Infrastructure.PubSub.DeliveryStatus.Drop, 0), (final.Status, retries));
        Assert.Contains("unpaired surrogate", final.Reason);
        Assert.Contains("$.data.object.metadata.licenzy_subject", final.Reason);
    }

    /// <summary>
    /// Signed events made malformed, in the envelope and inside data.object, the same on every run:
    /// each is refused with a 400 problem, or taken and then either applied or dead-lettered, never
    /// retried (a retry cannot mend what Stripe signed) and never a 5xx.
    /// </summary>
    [Fact]
    public async Task Generated_malformed_signed_events_are_refused_or_dead_lettered_at_once_never_retried()
    {
        var (tenant, valid, _) = await PaidCheckoutAsync();
        var envelope = JsonNode.Parse(valid)!.AsObject();
        var session = envelope["data"]!["object"]!.AsObject();
        static MalformedJson.Member[] Members(JsonObject json) =>
            json.Select(pair => new MalformedJson.Member(pair.Key, pair.Value?.ToJsonString() ?? "null")).ToArray();
        var cases = new List<(string Where, MalformedJson.Case Case)>();
        var count = 0;
        // Each case its own event id, so that no case is answered as a repeat of another.
        MalformedJson.Member[] EnvelopeWith(string? data) => Members(envelope)
            .Select(m => m.Name == "id" ? m with { Json = $"\"{tenant.NextEventId()}_{++count}\"" } : m)
            .Select(m => m.Name == "data" && data is not null ? m with { Json = data } : m).ToArray();
        foreach (var variant in MalformedJson.Variants(EnvelopeWith(null), seed: 1616, count: 30)) cases.Add(("envelope", variant));
        foreach (var variant in MalformedJson.Variants(Members(session), seed: 1617, count: 30))
        {
            var around = MalformedJson.Object(EnvelopeWith("{\"object\":DATA}"));
            var at = around.AsSpan().IndexOf("DATA"u8);
            cases.Add(("data.object", new(variant.What, [.. around[..at], .. variant.Body, .. around[(at + 4)..]])));
        }
        var failures = new List<string>();
        var (refused, dropped) = (0, 0);

        foreach (var (where, malformed) in cases)
        {
            var timestamp = app.Clock.GetUtcNow().ToUnixTimeSeconds();
            var signed = System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(tenant.WebhookSecret),
                (byte[])[.. System.Text.Encoding.UTF8.GetBytes($"{timestamp}."), .. malformed.Body]);
            var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/stripe/{tenant.TenantId}/test") { Content = new ByteArrayContent(malformed.Body) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.TryAddWithoutValidation("Stripe-Signature", $"t={timestamp},v1={Convert.ToHexStringLower(signed)}");
            var response = await app.IngestClient().SendAsync(request);
            var answer = await response.Content.ReadAsStringAsync();
            var said = $"{where}, {malformed} -> {(int)response.StatusCode} {answer}";

            if (response.StatusCode == HttpStatusCode.BadRequest)
            {
                if (!answer.Contains("\"code\":\"invalid_event\"", StringComparison.Ordinal)) failures.Add(said);
                refused++;
                continue;
            }
            if (response.StatusCode != HttpStatusCode.OK)
            {
                failures.Add(said);
                continue;
            }
            var eventId = JsonDocument.Parse(answer).RootElement.GetProperty("event_id").GetString()!;
            var (final, retries) = await app.Deliveries.WaitWithRetriesAsync(Topics.BillingEvents, eventId);
            if (retries != 0) failures.Add($"{said}, then retried {retries} times before {final.Status}: {final.Reason}");
            if (final.Status == Licenzy.Infrastructure.PubSub.DeliveryStatus.Drop) dropped++;
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        // Both ends were reached: the envelope's mistakes are refused, data's are dead letters.
        Assert.True(refused >= 20 && dropped >= 5, $"{refused} refused, {dropped} dead-lettered");
        Assert.Equal(HttpStatusCode.OK, (await app.ApiClient().GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.IngestClient().GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task An_event_about_a_purchase_licenzy_did_not_start_is_acknowledged_and_ignored()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var eventId = tenant.NextEventId();
        var body = StripeEvents.CheckoutSession("checkout.session.completed", eventId, app.Clock.GetUtcNow(), "cs_test_foreign",
            new Dictionary<string, string> { ["order"] = "shop-42" }, "payment", "paid");

        await tenant.DeliverAsync(body);
        var (final, retries) = await app.Deliveries.WaitWithRetriesAsync(Topics.BillingEvents, eventId);

        Assert.Equal((Licenzy.Infrastructure.PubSub.DeliveryStatus.Success, 0), (final.Status, retries));
        var letters = await (await tenant.Admin.GetAsync($"{tenant.ModePath}/dead-letters")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Empty(letters.GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task An_event_type_licenzy_does_not_act_on_is_acknowledged()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var eventId = tenant.NextEventId();
        var body = StripeEvents.Envelope("customer.created", eventId, app.Clock.GetUtcNow(), livemode: false,
            new System.Text.Json.Nodes.JsonObject { ["id"] = "cus_1", ["object"] = "customer" });

        var response = await tenant.SendWebhookAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await app.Deliveries.WaitAsync(Topics.BillingEvents, eventId);
        Assert.Equal(Licenzy.Infrastructure.PubSub.DeliveryStatus.Success, result.Status);
    }

    private static readonly TimeSpan JustInside = StripeRollingWindow - TimeSpan.FromMinutes(1);
    private static readonly TimeSpan JustOutside = StripeRollingWindow + TimeSpan.FromMinutes(1);
    private static TimeSpan StripeRollingWindow => TimeSpan.FromHours(24);

    /// <summary>Sends an event Licenzy acknowledges without acting on, signed with <paramref name="secret"/> now.</summary>
    private async Task<HttpResponseMessage> SendSignedWithAsync(TestTenant tenant, string secret)
    {
        var body = StripeEvents.Envelope("customer.created", tenant.NextEventId(), app.Clock.GetUtcNow(), livemode: false,
            new JsonObject { ["id"] = "cus_1", ["object"] = "customer" });
        return await tenant.SendWebhookAsync(body, StripeNet.EventUtility.GenerateSignatureHeader(body, secret, app.Clock.GetUtcNow().ToUnixTimeSeconds()));
    }

    [Fact]
    public async Task A_rolled_secret_is_accepted_for_24_hours_beside_the_new_one_and_then_refused()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var start = app.Clock.GetUtcNow();
        var old = await tenant.RollWebhookSecretAsync();
        var current = tenant.WebhookSecret;

        Assert.Equal(HttpStatusCode.OK, (await SendSignedWithAsync(tenant, old)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendSignedWithAsync(tenant, current)).StatusCode);
        app.Clock.Advance(start + JustInside - app.Clock.GetUtcNow());
        Assert.Equal(HttpStatusCode.OK, (await SendSignedWithAsync(tenant, old)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendSignedWithAsync(tenant, current)).StatusCode);
        app.Clock.Advance(start + JustOutside - app.Clock.GetUtcNow());
        await AssertProblemAsync(await SendSignedWithAsync(tenant, old), HttpStatusCode.BadRequest, "invalid_signature");
        Assert.Equal(HttpStatusCode.OK, (await SendSignedWithAsync(tenant, current)).StatusCode);
    }

    [Fact]
    public async Task The_same_secret_put_again_is_no_roll_and_leaves_the_window_of_the_last_roll_as_it_was()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var start = app.Clock.GetUtcNow();
        var old = await tenant.RollWebhookSecretAsync();
        app.Clock.Advance(TimeSpan.FromHours(12));

        await tenant.RollWebhookSecretAsync(tenant.WebhookSecret);

        // Had the second PUT counted as a roll, the old secret would be gone now (replaced as "previous"),
        // or kept until 12 hours later than Stripe keeps it.
        app.Clock.Advance(start + JustInside - app.Clock.GetUtcNow());
        Assert.Equal(HttpStatusCode.OK, (await SendSignedWithAsync(tenant, old)).StatusCode);
        app.Clock.Advance(start + JustOutside - app.Clock.GetUtcNow());
        await AssertProblemAsync(await SendSignedWithAsync(tenant, old), HttpStatusCode.BadRequest, "invalid_signature");
        Assert.Equal(HttpStatusCode.OK, (await SendSignedWithAsync(tenant, tenant.WebhookSecret)).StatusCode);
    }

    [Fact]
    public async Task Two_rolls_in_a_row_keep_only_the_secret_replaced_last()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var first = await tenant.RollWebhookSecretAsync();
        var second = await tenant.RollWebhookSecretAsync();

        await AssertProblemAsync(await SendSignedWithAsync(tenant, first), HttpStatusCode.BadRequest, "invalid_signature");
        Assert.Equal(HttpStatusCode.OK, (await SendSignedWithAsync(tenant, second)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendSignedWithAsync(tenant, tenant.WebhookSecret)).StatusCode);
    }

    [Fact]
    public async Task Parallel_deliveries_of_one_event_apply_it_once()
    {
        var (tenant, body, eventId) = await PaidCheckoutAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => tenant.SendWebhookAsync(body)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var fresh = 0;
        foreach (var response in responses)
            if (!(await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean()) fresh++;
        Assert.Equal(1, fresh);
        await app.Deliveries.WaitAsync(Topics.BillingEvents, eventId);
        Assert.Equal(1, (await tenant.EntitlementsAsync("user_1")).GetProperty("version").GetInt64());
    }
}

public sealed class WebhookTestsOnEmbedded(LicenzyApp app) : WebhookTests(app), IClassFixture<LicenzyApp>;

public sealed class WebhookTestsOnDapr(DaprLicenzyApp app) : WebhookTests(app), IClassFixture<DaprLicenzyApp>;

/// <summary>The same behaviour with two Api and two Ingest replicas behind the sidecar.</summary>
public sealed class WebhookTestsOnDaprReplicas(DaprCluster cluster) : WebhookTests(cluster), IClassFixture<DaprCluster>;

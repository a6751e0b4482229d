using System.Net;
using System.Net.Http.Json;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

public abstract class CheckoutTests(ILicenzyHost app)
{
    [Fact]
    public async Task A_checkout_session_carries_what_later_events_need()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var response = await tenant.Runtime.PostAsJsonAsync("/v1/checkout/session", new
        {
            subject_ref = "user_123", product_code = TestTenant.Subscription,
            success_url = "https://app.example.com/ok", cancel_url = "https://app.example.com/cancel",
        });

        var body = await response.OkJsonAsync();
        Assert.StartsWith("att_", body.GetProperty("attempt_id").GetString());
        Assert.Equal("created", body.GetProperty("status").GetString());
        Assert.Equal("test", body.GetProperty("mode").GetString());
        var session = app.Stripe.CheckoutSessions.Single(s => s.Url == body.GetProperty("checkout_url").GetString());
        Assert.Equal("subscription", session.Form["mode"]);
        Assert.Equal(tenant.PriceIds[TestTenant.Subscription], session.Form["line_items[0][price]"]);
        Assert.Equal(body.GetProperty("attempt_id").GetString(), session.Form["client_reference_id"]);
        Assert.Equal("https://app.example.com/ok", session.Form["success_url"]);
        foreach (var prefix in new[] { "metadata", "subscription_data[metadata]" })
        {
            Assert.Equal("user_123", session.Form[$"{prefix}[licenzy_subject]"]);
            Assert.Equal(TestTenant.Subscription, session.Form[$"{prefix}[licenzy_product]"]);
            Assert.Equal(tenant.TenantId, session.Form[$"{prefix}[licenzy_tenant]"]);
            Assert.Equal("test", session.Form[$"{prefix}[licenzy_mode]"]);
        }
        Assert.Equal(tenant.SecretKey, session.SecretKey);
    }

    [Fact]
    public async Task A_one_time_product_is_a_payment_session()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var session = await tenant.StartCheckoutAsync("user_1", TestTenant.Credits);

        Assert.Equal("payment", session.Form["mode"]);
        Assert.Equal("user_1", session.Form["payment_intent_data[metadata][licenzy_subject]"]);
    }

    [Fact]
    public async Task Creating_a_checkout_grants_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app);

        await tenant.StartCheckoutAsync("user_1", TestTenant.Subscription);

        Assert.False(await tenant.IsAllowedAsync("user_1"));
        var entitlements = await tenant.EntitlementsAsync("user_1");
        Assert.Empty(entitlements.GetProperty("entitlements").EnumerateArray());
    }

    [Fact]
    public async Task A_stripe_price_id_is_not_a_product_code()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var response = await tenant.Runtime.PostAsJsonAsync("/v1/checkout/session",
            new { subject_ref = "user_1", product_code = tenant.PriceIds[TestTenant.Subscription] });

        var problem = await response.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_product");
        Assert.Contains("Licenzy product code", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Products_of_the_other_mode_are_unknown()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var live = await TestTenant.CreateAsync(app, mode: "live");

        var response = await app.RuntimeClient(live.ApiKey).PostAsJsonAsync("/v1/checkout/session",
            new { subject_ref = "user_1", product_code = "SOMETHING_ELSE" });
        var crossTenant = await app.RuntimeClient(live.ApiKey).PostAsJsonAsync("/v1/checkout/session",
            new { subject_ref = "user_1", product_code = TestTenant.Subscription });

        await response.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_product");
        Assert.Equal(HttpStatusCode.OK, crossTenant.StatusCode); // live has its own PRO_MONTHLY
        Assert.DoesNotContain(app.Stripe.CheckoutSessions, s => s.SecretKey == tenant.SecretKey && s.Form["metadata[licenzy_mode]"] == "live");
    }

    [Theory]
    [InlineData("{\"subject_ref\": \"user_1\", \"product_code\": \"PRO_MONTHLY\", \"mode\": \"live\"}", 400, "mode_not_allowed")]
    [InlineData("{\"subject_ref\": \"user 1\", \"product_code\": \"PRO_MONTHLY\"}", 400, "invalid_subject_ref")]
    [InlineData("{\"subject_ref\": 5, \"product_code\": \"PRO_MONTHLY\"}", 400, "invalid_subject_ref")]
    [InlineData("{\"product_code\": \"PRO_MONTHLY\"}", 400, "invalid_subject_ref")]
    [InlineData("{\"subject_ref\": \"user_1\"}", 400, "invalid_request")]
    [InlineData("{\"subject_ref\": \"user_1\", \"product_code\": \"PRO_MONTHLY\", \"success_url\": \"javascript:alert(1)\"}", 400, "invalid_request")]
    [InlineData("{\"subject_ref\": \"user_1\", \"product_code\": \"NOPE\"}", 404, "unknown_product")]
    [InlineData("{\"subject_ref\": \"user_1\", ", 400, "invalid_request")]
    public async Task Bad_checkout_requests_get_their_error_and_reach_no_stripe(string body, int status, string code)
    {
        var tenant = await TestTenant.CreateAsync(app);
        var before = app.Stripe.RequestCount("/v1/checkout/sessions");

        var response = await tenant.Runtime.PostAsync("/v1/checkout/session", Problems.Json(body));

        await response.AssertProblemAsync((HttpStatusCode)status, code);
        Assert.Equal(before, app.Stripe.RequestCount("/v1/checkout/sessions"));
    }

    [Fact]
    public async Task A_subject_ref_over_256_characters_is_refused()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var response = await tenant.Runtime.PostAsJsonAsync("/v1/checkout/session",
            new { subject_ref = new string('a', 257), product_code = TestTenant.Subscription });

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_subject_ref");
    }

    [Fact]
    public async Task A_retry_with_the_same_key_gets_the_first_response_once()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var body = new { subject_ref = "user_1", product_code = TestTenant.DayPass };
        var before = app.Stripe.RequestCount("/v1/checkout/sessions");

        var first = await Send(tenant, "key-1", body);
        var second = await Send(tenant, "key-1", body);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(before + 1, app.Stripe.RequestCount("/v1/checkout/sessions"));
    }

    [Fact]
    public async Task Parallel_first_tries_of_one_key_get_one_answer_and_one_of_them_is_not_a_replay()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var body = new { subject_ref = "user_1", product_code = TestTenant.DayPass };
        // All of them past Licenzy's check for an earlier answer before any has recorded one.
        var hold = app.Stripe.HoldNext("/v1/checkout/sessions", count: 4);

        var sending = Enumerable.Range(0, 4).Select(_ => Send(tenant, "raced-key", body)).ToArray();
        await hold.AllArrived.WaitAsync(TimeSpan.FromSeconds(30));
        hold.Release();
        var responses = await Task.WhenAll(sending);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
        Assert.Single(bodies.Distinct());
        Assert.Single(responses, r => !r.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(3, responses.Count(r => r.Headers.TryGetValues("Idempotent-Replayed", out var v) && v.Single() == "true"));
        Assert.Single(app.Stripe.CheckoutSessions, s => s.SecretKey == tenant.SecretKey && s.Form["metadata[licenzy_subject]"] == "user_1");
    }

    [Fact]
    public async Task Parallel_first_tries_of_one_key_with_two_bodies_create_one_session_and_refuse_the_other()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var hold = app.Stripe.HoldNext("/v1/checkout/sessions", count: 2);

        var sending = new[] { "user_1", "user_2" }
            .Select(subject => Send(tenant, "raced-bodies", new { subject_ref = subject, product_code = TestTenant.DayPass })).ToArray();
        await hold.AllArrived.WaitAsync(TimeSpan.FromSeconds(30));
        hold.Release();
        var responses = await Task.WhenAll(sending);

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        await responses.Single(r => r.StatusCode != HttpStatusCode.OK).AssertProblemAsync(HttpStatusCode.Conflict, "idempotency_key_reused");
        Assert.Single(app.Stripe.CheckoutSessions, s => s.SecretKey == tenant.SecretKey);
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_refused()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await Send(tenant, "key-2", new { subject_ref = "user_1", product_code = TestTenant.DayPass });

        var response = await Send(tenant, "key-2", new { subject_ref = "user_2", product_code = TestTenant.DayPass });

        await response.AssertProblemAsync(HttpStatusCode.Conflict, "idempotency_key_reused");
    }

    [Fact]
    public async Task Keys_of_two_tenants_do_not_collide()
    {
        var first = await TestTenant.CreateAsync(app);
        var second = await TestTenant.CreateAsync(app);
        await Send(first, "shared-key", new { subject_ref = "user_1", product_code = TestTenant.DayPass });

        var response = await Send(second, "shared-key", new { subject_ref = "user_2", product_code = TestTenant.DayPass });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task A_stripe_failure_is_a_bad_gateway()
    {
        var tenant = await TestTenant.CreateAsync(app);
        // Every attempt fails: the first and the two retries (Licenzy:Stripe:MaxRetries defaults to 2).
        app.Stripe.FailNext("/v1/checkout/sessions", count: 3, status: 503);

        var response = await tenant.Runtime.PostAsJsonAsync("/v1/checkout/session", new { subject_ref = "user_1", product_code = TestTenant.DayPass });

        await response.AssertProblemAsync(HttpStatusCode.BadGateway, "stripe_error");
        Assert.Equal(HttpStatusCode.OK,
            (await tenant.Runtime.PostAsJsonAsync("/v1/checkout/session", new { subject_ref = "user_1", product_code = TestTenant.DayPass })).StatusCode);
    }

    [Fact]
    public async Task A_tenant_without_stripe_cannot_start_a_checkout()
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);

        var response = await tenant.Runtime.PostAsJsonAsync("/v1/checkout/session", new { subject_ref = "user_1", product_code = "ANYTHING" });

        await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "stripe_not_connected");
    }

    [Fact]
    public async Task A_checkout_key_is_kept_by_the_store_for_two_days()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var now = app.Clock.GetUtcNow();

        var response = await Send(tenant, "checkout-ttl", new { subject_ref = "user_1", product_code = TestTenant.Subscription });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(now.AddHours(48), await StoredState.IdempotencyExpiryAsync(tenant, "checkout", "checkout-ttl"));
    }

    private static Task<HttpResponseMessage> Send(TestTenant tenant, string key, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/checkout/session") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return tenant.Runtime.SendAsync(request);
    }
}

public sealed class CheckoutTestsOnEmbedded(LicenzyApp app) : CheckoutTests(app), IClassFixture<LicenzyApp>;

public sealed class CheckoutTestsOnDapr(DaprLicenzyApp app) : CheckoutTests(app), IClassFixture<DaprLicenzyApp>;

/// <summary>The same behaviour with two Api and two Ingest replicas behind the sidecar.</summary>
public sealed class CheckoutTestsOnDaprReplicas(DaprCluster cluster) : CheckoutTests(cluster), IClassFixture<DaprCluster>;

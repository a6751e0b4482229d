using System.Net;
using System.Net.Http.Json;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

public abstract class AccessTests(ILicenzyHost app)
{
    [Fact]
    public async Task An_unknown_subject_has_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var check = await (await tenant.Runtime.PostAsJsonAsync("/v1/access/check", new { subject_ref = "nobody" })).OkJsonAsync();
        var customer = await (await tenant.Runtime.GetAsync("/v1/customer/access/nobody")).OkJsonAsync();
        var entitlements = await (await tenant.Runtime.GetAsync("/v1/entitlements/nobody")).OkJsonAsync();

        Assert.False(check.GetProperty("allowed").GetBoolean());
        Assert.Equal(0, check.GetProperty("version").GetInt64());
        Assert.Equal(app.Clock.GetUtcNow(), DateTimeOffset.Parse(check.GetProperty("as_of").GetString()!));
        Assert.EndsWith("Z", check.GetProperty("as_of").GetString());
        Assert.False(check.TryGetProperty("feature", out _));
        Assert.False(customer.GetProperty("has_access").GetBoolean());
        Assert.Equal("none", customer.GetProperty("status").GetString());
        Assert.Empty(customer.GetProperty("entitlements").EnumerateArray());
        Assert.Empty(entitlements.GetProperty("entitlements").EnumerateArray());
    }

    [Fact]
    public async Task A_paid_subscription_grants_its_features()
    {
        var tenant = await TestTenant.CreateAsync(app);

        await tenant.BuyAsync("user_1", TestTenant.Subscription);

        var check = await (await tenant.Runtime.PostAsJsonAsync("/v1/access/check", new { subject_ref = "user_1", feature = "export" })).OkJsonAsync();
        Assert.True(check.GetProperty("allowed").GetBoolean());
        Assert.Equal("export", check.GetProperty("feature").GetString());
        Assert.Equal(1, check.GetProperty("version").GetInt64());
        Assert.False(await tenant.IsAllowedAsync("user_1", "admin_panel"));
        var entitlement = (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements").EnumerateArray().Single();
        Assert.Equal("subscription", entitlement.GetProperty("kind").GetString());
        Assert.Equal("active", entitlement.GetProperty("status").GetString());
        Assert.Equal("subscription_active", entitlement.GetProperty("availability_reason").GetString());
        Assert.True(entitlement.GetProperty("available").GetBoolean());
        Assert.StartsWith("ent_", entitlement.GetProperty("id").GetString());
        foreach (var field in new[] { "usage_granted", "usage_remaining", "expires_at", "grace_ends_at" })
            Assert.Equal(System.Text.Json.JsonValueKind.Null, entitlement.GetProperty(field).ValueKind);
        Assert.Equal(app.Clock.GetUtcNow(), DateTimeOffset.Parse(entitlement.GetProperty("starts_at").GetString()!));
    }

    [Fact]
    public async Task A_time_pass_ends_at_read_time()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.DayPass);
        var entitlement = (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0];
        var expiresAt = DateTimeOffset.Parse(entitlement.GetProperty("expires_at").GetString()!);
        Assert.Equal(app.Clock.GetUtcNow().AddDays(1), expiresAt);

        // The clock only moves forward; tests in this class read times relative to it.
        app.Clock.SetUtcNow(expiresAt.AddTicks(-1));
        Assert.True(await tenant.IsAllowedAsync("user_1"));

        app.Clock.SetUtcNow(expiresAt);
        Assert.False(await tenant.IsAllowedAsync("user_1"));
        var customer = await (await tenant.Runtime.GetAsync("/v1/customer/access/user_1")).OkJsonAsync();
        Assert.Equal("expired", customer.GetProperty("status").GetString());
        Assert.Equal("pass_expired", customer.GetProperty("entitlements")[0].GetProperty("availability_reason").GetString());
    }

    [Fact]
    public async Task An_unpaid_checkout_waits_for_the_async_payment()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var session = await tenant.BuyAsync("user_1", TestTenant.Credits, paymentStatus: "unpaid");
        Assert.False(await tenant.IsAllowedAsync("user_1"));
        var pending = (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0];
        Assert.Equal("pending", pending.GetProperty("status").GetString());
        Assert.Equal("payment_pending", pending.GetProperty("availability_reason").GetString());

        await tenant.DeliverAsync(StripeEvents.CheckoutSession("checkout.session.async_payment_succeeded", tenant.NextEventId(),
            app.Clock.GetUtcNow(), session, "paid"));

        Assert.True(await tenant.IsAllowedAsync("user_1"));
        var granted = await tenant.EntitlementsAsync("user_1");
        Assert.Equal(2, granted.GetProperty("version").GetInt64());
        Assert.Equal(50, granted.GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Fact]
    public async Task A_failed_async_payment_grants_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var session = await tenant.BuyAsync("user_1", TestTenant.Subscription, paymentStatus: "unpaid");

        await tenant.DeliverAsync(StripeEvents.CheckoutSession("checkout.session.async_payment_failed", tenant.NextEventId(),
            app.Clock.GetUtcNow(), session, "unpaid"));

        Assert.False(await tenant.IsAllowedAsync("user_1"));
        var entitlement = (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0];
        Assert.Equal("expired", entitlement.GetProperty("status").GetString());
        Assert.Equal("payment_failed", entitlement.GetProperty("availability_reason").GetString());
    }

    [Fact]
    public async Task The_customer_view_summarises()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Subscription);

        var customer = await (await tenant.Runtime.GetAsync("/v1/customer/access/user_1")).OkJsonAsync();

        Assert.True(customer.GetProperty("has_access").GetBoolean());
        Assert.Equal("active", customer.GetProperty("status").GetString());
        Assert.Equal(1, customer.GetProperty("version").GetInt64());
        Assert.Equal(TestTenant.Subscription, customer.GetProperty("entitlements")[0].GetProperty("product_code").GetString());
    }

    [Theory]
    [InlineData("{\"subject_ref\": \"user_1\", \"product_code\": \"PRO_MONTHLY\"}", 400, "product_code_not_allowed")]
    [InlineData("{\"subject_ref\": \"user_1\", \"mode\": \"test\"}", 400, "mode_not_allowed")]
    [InlineData("{\"subject_ref\": \"user/1\"}", 400, "invalid_subject_ref")]
    [InlineData("{}", 400, "invalid_subject_ref")]
    [InlineData("{\"subject_ref\": \"user_1\", \"feature\": 7}", 400, "invalid_request")]
    [InlineData("not json", 400, "invalid_request")]
    [InlineData("", 400, "invalid_request")]
    public async Task Bad_access_checks_get_their_error(string body, int status, string code)
    {
        var tenant = await TestTenant.CreateAsync(app);

        var response = await tenant.Runtime.PostAsync("/v1/access/check", Problems.Json(body));

        await response.AssertProblemAsync((HttpStatusCode)status, code);
    }

    [Fact]
    public async Task An_oversized_access_check_is_refused()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var response = await tenant.Runtime.PostAsJsonAsync("/v1/access/check", new { subject_ref = "user_1", padding = new string('x', 20_000) });

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }

    [Fact]
    public async Task A_path_subject_ref_is_held_to_the_same_rule()
    {
        var tenant = await TestTenant.CreateAsync(app);

        await (await tenant.Runtime.GetAsync("/v1/entitlements/user%20one")).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_subject_ref");
        await (await tenant.Runtime.GetAsync($"/v1/customer/access/{new string('a', 257)}")).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_subject_ref");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer lz_test_short")]
    [InlineData("Bearer lz_test_0123456789abcdefABCDEF0123456789")]
    [InlineData("Bearer sk_test_0123456789abcdefABCDEF0123456789")]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer " + LicenzyApp.AdminToken)]
    public async Task Every_runtime_route_refuses_a_bad_key_the_same_way(string? authorization)
    {
        var client = app.ApiClient();
        if (authorization is not null) client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);

        var responses = new[]
        {
            await client.PostAsJsonAsync("/v1/access/check", new { subject_ref = "u" }),
            await client.GetAsync("/v1/customer/access/u"),
            await client.GetAsync("/v1/entitlements/u"),
            await client.PostAsJsonAsync("/v1/checkout/session", new { subject_ref = "u", product_code = "P" }),
            await client.PostAsJsonAsync("/v1/usage/consume", new { subject_ref = "u", units = 1 }),
            await client.PostAsJsonAsync("/v1/access/token", new { subject_ref = "u" }),
        };

        foreach (var response in responses)
        {
            var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
            Assert.Equal(ApiKeyDetail, problem.GetProperty("detail").GetString());
        }
    }

    private const string ApiKeyDetail = "Send a valid runtime API key as 'Authorization: Bearer lz_test_...' or 'lz_live_...'.";
}

public sealed class AccessTestsOnEmbedded(LicenzyApp app) : AccessTests(app), IClassFixture<LicenzyApp>;

public sealed class AccessTestsOnDapr(DaprLicenzyApp app) : AccessTests(app), IClassFixture<DaprLicenzyApp>;

/// <summary>The same behaviour with two Api and two Ingest replicas behind the sidecar.</summary>
public sealed class AccessTestsOnDaprReplicas(DaprCluster cluster) : AccessTests(cluster), IClassFixture<DaprCluster>;

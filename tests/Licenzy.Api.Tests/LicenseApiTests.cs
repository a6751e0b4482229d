using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

/// <summary>
/// Licenses end to end, as Licentric uses them: a product mapped to a policy, a purchase reported
/// by Stripe, the key found through the runtime API, and its status following each lifecycle row.
/// </summary>
public abstract partial class LicenseApiTests(ILicenzyHost app)
{
    private const string Starter = "STARTER";
    private const string Pass = "PASS_30";

    private DateTimeOffset Now => app.Clock.GetUtcNow();

    [GeneratedRegex("^LZ-[0-9A-HJKMNP-TV-Z]{8}(-[0-9A-HJKMNP-TV-Z]{8}){3}$")]
    private static partial Regex KeyShape();

    private sealed record Bought(TestTenant Tenant, StandInCheckoutSession Session, string SubscriptionId, JsonElement License);

    private async Task<TestTenant> LicentricAsync(int graceDays = 7)
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.DefineProductAsync(new
        {
            code = Starter, kind = "subscription", name = "Starter Plan", issue_license = true, grace_period_days = graceDays,
            features = new[] { "export", "api_access" },
        }, "recurring");
        await tenant.DefineProductAsync(new { code = Pass, kind = "time_pass", duration_days = 30, name = "Pass", issue_license = true, features = new[] { "export" } }, "one_time");
        return tenant;
    }

    private async Task<Bought> SubscribeAsync(TestTenant tenant, string subjectRef = "user_1", string email = "ada@example.com")
    {
        var session = await tenant.BuyAsync(subjectRef, Starter, email: email);
        var subscriptionId = "sub_" + session.Id;
        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.created", tenant.NextEventId(), Now, subscriptionId, "active",
            session.Metadata, Now, Now.AddDays(30)));
        await tenant.DeliverAsync(StripeEvents.Invoice("invoice.paid", tenant.NextEventId(), Now, subscriptionId, session.Metadata,
            Now.AddDays(30), "pi_first_" + session.Id));
        var licenses = await ListAsync(tenant, subjectRef);
        return new Bought(tenant, session, subscriptionId, licenses.Single(l => l.GetProperty("product_code").GetString() == Starter));
    }

    private static async Task<List<JsonElement>> ListAsync(TestTenant tenant, string subjectRef) =>
        (await (await tenant.Runtime.GetAsync($"/v1/licenses?subject_ref={subjectRef}")).OkJsonAsync())
            .GetProperty("licenses").EnumerateArray().ToList();

    private static async Task<JsonElement> ValidateAsync(TestTenant tenant, string key, string? feature = null) =>
        await (await tenant.Runtime.PostAsJsonAsync("/v1/licenses/validate", feature is null ? new { key } : (object)new { key, feature })).OkJsonAsync();

    private static void AssertLicense(JsonElement license, string status, bool valid, DateTimeOffset? graceEndsAt = null)
    {
        Assert.Equal(status, license.GetProperty("status").GetString());
        Assert.Equal(valid, license.GetProperty("valid").GetBoolean());
        Assert.Equal(graceEndsAt, license.GetProperty("grace_ends_at").ValueKind == JsonValueKind.Null
            ? null : DateTimeOffset.Parse(license.GetProperty("grace_ends_at").GetString()!));
    }

    private async Task<(string Code, JsonElement License)> CodeAsync(Bought bought, string? feature = null)
    {
        var answer = await ValidateAsync(bought.Tenant, bought.License.GetProperty("key").GetString()!, feature);
        Assert.Equal(answer.GetProperty("code").GetString() == "valid", answer.GetProperty("valid").GetBoolean());
        return (answer.GetProperty("code").GetString()!, answer.GetProperty("license"));
    }

    [Fact]
    public async Task A_purchase_of_a_license_policy_provisions_a_key_with_the_buyers_email_that_validates()
    {
        var tenant = await LicentricAsync();
        var bought = await SubscribeAsync(tenant);
        var license = bought.License;

        var key = license.GetProperty("key").GetString()!;
        Assert.Matches(KeyShape(), key);
        Assert.StartsWith("lic_", license.GetProperty("id").GetString());
        Assert.Equal("user_1", license.GetProperty("subject_ref").GetString());
        Assert.Equal("ada@example.com", license.GetProperty("email").GetString());
        Assert.Equal(Starter, license.GetProperty("product_code").GetString());
        Assert.Equal(Starter, license.GetProperty("policy").GetProperty("code").GetString());
        Assert.Equal("Starter Plan", license.GetProperty("policy").GetProperty("name").GetString());
        Assert.Equal(["export", "api_access"], license.GetProperty("policy").GetProperty("features").EnumerateArray().Select(f => f.GetString()));
        var entitlement = (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0];
        Assert.Equal(entitlement.GetProperty("id").GetString(), license.GetProperty("entitlement_id").GetString());
        Assert.Equal(entitlement.GetProperty("expires_at").GetString(), license.GetProperty("expires_at").GetString());
        Assert.Equal((await tenant.EntitlementsAsync("user_1")).GetProperty("version").GetInt64(), license.GetProperty("version").GetInt64());
        AssertLicense(license, "active", true);

        var validated = await ValidateAsync(tenant, key, "export");
        Assert.True(validated.GetProperty("valid").GetBoolean());
        Assert.Equal("valid", validated.GetProperty("code").GetString());
        Assert.Equal(license.GetProperty("id").GetString(), validated.GetProperty("license").GetProperty("id").GetString());
        Assert.Equal(key, validated.GetProperty("license").GetProperty("key").GetString());
        Assert.Equal(Now, DateTimeOffset.Parse(validated.GetProperty("as_of").GetString()!));

        var byId = await (await tenant.Runtime.GetAsync($"/v1/licenses/{license.GetProperty("id").GetString()}")).OkJsonAsync();
        Assert.Equal(license.ToString(), byId.ToString());
    }

    [Fact]
    public async Task A_feature_the_policy_lacks_is_feature_not_entitled()
    {
        var bought = await SubscribeAsync(await LicentricAsync());
        var (code, license) = await CodeAsync(bought, "premium_analytics");
        Assert.Equal("feature_not_entitled", code);
        Assert.True(license.GetProperty("valid").GetBoolean());
    }

    [Fact]
    public async Task A_product_without_issue_license_provisions_nothing()
    {
        var tenant = await LicentricAsync();
        await tenant.BuyAsync("user_1", TestTenant.DayPass);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
        Assert.Empty(await ListAsync(tenant, "user_1"));
    }

    [Fact]
    public async Task An_unpaid_checkout_has_no_license_until_its_payment_succeeds()
    {
        var tenant = await LicentricAsync();
        var session = await tenant.BuyAsync("user_1", Pass, paymentStatus: "unpaid");
        Assert.Empty(await ListAsync(tenant, "user_1"));

        await tenant.DeliverAsync(StripeEvents.CheckoutSession("checkout.session.async_payment_succeeded", tenant.NextEventId(), Now, session, "paid"));
        var license = Assert.Single(await ListAsync(tenant, "user_1"));
        AssertLicense(license, "active", true);
        Assert.Equal(StripeEvents.DefaultEmail, license.GetProperty("email").GetString());
    }

    [Fact]
    public async Task A_failed_payment_suspends_the_license_and_a_paid_invoice_restores_it_keeping_the_same_key()
    {
        var bought = await SubscribeAsync(await LicentricAsync());
        var tenant = bought.Tenant;
        app.Clock.Advance(TimeSpan.FromMinutes(1));

        await tenant.DeliverAsync(StripeEvents.Invoice("invoice.payment_failed", tenant.NextEventId(), Now, bought.SubscriptionId,
            bought.Session.Metadata, Now.AddDays(30), "pi_failed_" + bought.Session.Id));
        var (code, license) = await CodeAsync(bought);
        Assert.Equal("suspended", code);
        AssertLicense(license, "suspended", false);

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await tenant.DeliverAsync(StripeEvents.Invoice("invoice.paid", tenant.NextEventId(), Now, bought.SubscriptionId,
            bought.Session.Metadata, Now.AddDays(60), "pi_retry_" + bought.Session.Id));
        (code, license) = await CodeAsync(bought);
        Assert.Equal("valid", code);
        Assert.Equal(bought.License.GetProperty("id").GetString(), license.GetProperty("id").GetString());
        Assert.Single(await ListAsync(tenant, "user_1"));
    }

    [Fact]
    public async Task A_canceled_subscription_keeps_its_license_valid_through_the_grace_then_expired()
    {
        var bought = await SubscribeAsync(await LicentricAsync(graceDays: 3));
        var tenant = bought.Tenant;
        var canceledAt = Now.AddDays(2);
        app.Clock.SetUtcNow(canceledAt);

        await tenant.DeliverAsync(StripeEvents.Subscription("customer.subscription.deleted", tenant.NextEventId(), canceledAt, bought.SubscriptionId,
            "canceled", bought.Session.Metadata, canceledAt.AddDays(-2), canceledAt.AddDays(28), canceledAt: canceledAt));
        var (code, license) = await CodeAsync(bought);
        Assert.Equal("valid", code);
        AssertLicense(license, "active", true, canceledAt.AddDays(3));

        app.Clock.SetUtcNow(canceledAt.AddDays(3));
        (code, license) = await CodeAsync(bought);
        Assert.Equal("expired", code);
        AssertLicense(license, "expired", false);
    }

    [Fact]
    public async Task A_full_refund_revokes_the_license()
    {
        var bought = await SubscribeAsync(await LicentricAsync());
        await bought.Tenant.DeliverAsync(StripeEvents.ChargeRefunded(bought.Tenant.NextEventId(), Now, "pi_first_" + bought.Session.Id, amountRefunded: 1900));
        var (code, license) = await CodeAsync(bought);
        Assert.Equal("revoked", code);
        AssertLicense(license, "revoked", false);
    }

    [Fact]
    public async Task A_second_pass_makes_a_second_license_and_refunding_one_revokes_only_it()
    {
        var tenant = await LicentricAsync();
        var first = await tenant.BuyAsync("user_1", Pass);
        await tenant.BuyAsync("user_1", Pass);
        Assert.Equal(2, (await ListAsync(tenant, "user_1")).Select(l => l.GetProperty("key").GetString()).Distinct().Count());

        await tenant.DeliverAsync(StripeEvents.ChargeRefunded(tenant.NextEventId(), Now, "pi_" + first.Id, amountRefunded: 1900));
        var statuses = (await ListAsync(tenant, "user_1")).Select(l => l.GetProperty("status").GetString()).Order();
        Assert.Equal(["active", "revoked"], statuses);
        Assert.True(await tenant.IsAllowedAsync("user_1", "export"));
    }

    [Fact]
    public async Task Events_in_reverse_order_and_repeated_end_with_the_same_license()
    {
        var tenant = await LicentricAsync();
        var session = await tenant.StartCheckoutAsync("user_1", Starter);
        var subscriptionId = "sub_" + session.Id;
        var at = Now;
        string[] events =
        [
            StripeEvents.CheckoutSession("checkout.session.completed", tenant.NextEventId(), at, session, "paid"),
            StripeEvents.Subscription("customer.subscription.created", tenant.NextEventId(), at, subscriptionId, "active", session.Metadata, at, at.AddDays(30)),
            StripeEvents.Invoice("invoice.payment_failed", tenant.NextEventId(), at.AddDays(30), subscriptionId, session.Metadata, at.AddDays(30), "pi_f_" + session.Id),
        ];
        foreach (var body in events.Reverse().Concat(events)) await tenant.DeliverAsync(body);

        var license = Assert.Single(await ListAsync(tenant, "user_1"));
        app.Clock.SetUtcNow(at.AddDays(30).AddHours(1));
        var (code, _) = await CodeAsync(new Bought(tenant, session, subscriptionId, license));
        Assert.Equal("suspended", code);
    }

    [Fact]
    public async Task An_unknown_key_is_not_found_and_another_tenants_key_is_unknown_here()
    {
        var bought = await SubscribeAsync(await LicentricAsync());
        var other = await LicentricAsync();
        var key = bought.License.GetProperty("key").GetString()!;

        foreach (var asked in new[] { "LZ-00000000-00000000-00000000-00000000", key.ToLowerInvariant(), key + " " })
        {
            var unknown = await ValidateAsync(bought.Tenant, asked);
            Assert.Equal("not_found", unknown.GetProperty("code").GetString());
            Assert.False(unknown.GetProperty("valid").GetBoolean());
            Assert.Equal(JsonValueKind.Null, unknown.GetProperty("license").ValueKind);
        }

        Assert.Equal("not_found", (await ValidateAsync(other, key)).GetProperty("code").GetString());
        await (await other.Runtime.GetAsync($"/v1/licenses/{bought.License.GetProperty("id").GetString()}"))
            .AssertProblemAsync(HttpStatusCode.NotFound, "license_not_found");
        Assert.Empty(await ListAsync(other, "user_1"));
    }

    [Fact]
    public async Task The_key_is_stored_only_encrypted_and_every_purchase_gets_its_own()
    {
        var tenant = await LicentricAsync();
        var keys = new List<string>();
        for (var i = 0; i < 5; i++) keys.Add((await SubscribeAsync(tenant, $"user_{i}")).License.GetProperty("key").GetString()!);

        Assert.Equal(5, keys.Distinct().Count());
        var stored = string.Join("\n", await StoredState.SnapshotAsync(app));
        foreach (var key in keys) Assert.DoesNotContain(key, stored);
    }

    [Fact]
    public async Task Bad_requests_get_their_problem_and_change_nothing()
    {
        var bought = await SubscribeAsync(await LicentricAsync());
        var tenant = bought.Tenant;
        var before = await StoredState.SnapshotAsync(app);

        await (await tenant.Runtime.PostAsJsonAsync("/v1/licenses/validate", new { })).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await tenant.Runtime.PostAsJsonAsync("/v1/licenses/validate", new { key = "" })).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await tenant.Runtime.PostAsJsonAsync("/v1/licenses/validate", new { key = 42 })).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await tenant.Runtime.PostAsJsonAsync("/v1/licenses/validate", new { key = new string('A', 257) })).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await tenant.Runtime.PostAsJsonAsync("/v1/licenses/validate", new { key = "LZ-1", feature = 7 })).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await tenant.Runtime.PostAsJsonAsync("/v1/licenses/validate", new { key = "LZ-1", mode = "live" })).AssertProblemAsync(HttpStatusCode.BadRequest, "mode_not_allowed");
        await (await tenant.Runtime.PostAsync("/v1/licenses/validate", Problems.Json("[\"LZ-1\"]"))).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await (await tenant.Runtime.GetAsync("/v1/licenses")).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_subject_ref");
        await (await tenant.Runtime.GetAsync("/v1/licenses?subject_ref=a%20b")).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_subject_ref");
        await (await tenant.Runtime.GetAsync("/v1/licenses?subject_ref=user_1&subject_ref=user_2")).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_subject_ref");
        foreach (var id in new[] { "nope", "lic_000000000000000000000000", "lic_%F0%9F%98%80", new string('x', 3000) })
            await (await tenant.Runtime.GetAsync($"/v1/licenses/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, "license_not_found");
        using var anonymous = app.RuntimeClient("lz_test_not_a_real_key_at_all_000000000");
        await (await anonymous.PostAsJsonAsync("/v1/licenses/validate", new { key = bought.License.GetProperty("key").GetString() }))
            .AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
        using var admin = app.AdminClient();
        await (await admin.GetAsync($"/v1/licenses?subject_ref=user_1")).AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");

        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
    }
}

public sealed class LicenseApiTestsOnEmbedded(LicenzyApp app) : LicenseApiTests(app), IClassFixture<LicenzyApp>;

public sealed class LicenseApiTestsOnDapr(DaprLicenzyApp app) : LicenseApiTests(app), IClassFixture<DaprLicenzyApp>;

public sealed class LicenseApiTestsOnDaprReplicas(DaprCluster cluster) : LicenseApiTests(cluster), IClassFixture<DaprCluster>;

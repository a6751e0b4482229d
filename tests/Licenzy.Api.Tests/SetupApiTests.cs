using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

public abstract class SetupApiTests(ILicenzyHost app)
{
    [Fact]
    public async Task A_tenant_is_created_with_a_name()
    {
        var response = await app.AdminClient().PostAsJsonAsync("/v1/admin/tenants", new { name = "Acme" });

        var tenant = await response.OkJsonAsync(HttpStatusCode.Created);
        Assert.StartsWith("ten_", tenant.GetProperty("tenant_id").GetString());
        Assert.Equal("Acme", tenant.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("{\"name\": 42}")]
    [InlineData("{\"name\": \"\"}")]
    [InlineData("")]
    public async Task A_bad_tenant_body_is_refused(string body)
    {
        var response = await app.AdminClient().PostAsync("/v1/admin/tenants", Problems.Json(body));

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task An_oversized_body_is_refused()
    {
        var response = await app.AdminClient().PostAsJsonAsync("/v1/admin/tenants", new { name = new string('a', 70_000) });

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "request_too_large");
    }

    [Fact]
    public async Task The_setup_api_takes_only_the_admin_token()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var noToken = app.ApiClient();
        var runtimeKey = app.RuntimeClient(tenant.ApiKey);
        var wrongToken = app.RuntimeClient(LicenzyApp.AdminToken + "x");

        foreach (var client in new[] { noToken, runtimeKey, wrongToken })
        {
            await (await client.PostAsJsonAsync("/v1/admin/tenants", new { name = "x" })).AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid_admin_token");
            await (await client.GetAsync($"{tenant.ModePath}/products")).AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid_admin_token");
        }
    }

    [Fact]
    public async Task Connecting_stripe_checks_the_key_and_gives_the_webhook_url()
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var key = "sk_test_" + Guid.NewGuid().ToString("N");
        app.Stripe.AddKey(key, livemode: false);

        var response = await tenant.Admin.PutAsJsonAsync($"{tenant.ModePath}/stripe", new { secret_key = key, webhook_secret = "whsec_abc" });

        var body = await response.OkJsonAsync();
        Assert.Equal("test", body.GetProperty("mode").GetString());
        Assert.EndsWith($"/v1/webhooks/stripe/{tenant.TenantId}/test", body.GetProperty("webhook_url").GetString());
        Assert.False(body.TryGetProperty("webhook_endpoint_id", out _), "only a registration answers with an endpoint id");
        Assert.DoesNotContain(key, body.GetRawText());
    }

    [Fact]
    public async Task A_key_of_the_other_mode_is_refused_before_asking_stripe()
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var before = app.Stripe.RequestCount("/v1/balance");

        var live = await tenant.Admin.PutAsJsonAsync($"{tenant.ModePath}/stripe", new { secret_key = "sk_live_abc", webhook_secret = "whsec_abc" });
        var restricted = await tenant.Admin.PutAsJsonAsync($"/v1/admin/tenants/{tenant.TenantId}/modes/live/stripe",
            new { secret_key = "rk_test_abc", webhook_secret = "whsec_abc" });

        await live.AssertProblemAsync(HttpStatusCode.BadRequest, "stripe_mode_mismatch");
        await restricted.AssertProblemAsync(HttpStatusCode.BadRequest, "stripe_mode_mismatch");
        Assert.Equal(before, app.Stripe.RequestCount("/v1/balance"));
    }

    [Fact]
    public async Task A_key_whose_account_says_otherwise_is_a_mode_mismatch()
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        var key = "sk_test_" + Guid.NewGuid().ToString("N");
        app.Stripe.AddKey(key, livemode: true);

        var response = await tenant.Admin.PutAsJsonAsync($"{tenant.ModePath}/stripe", new { secret_key = key, webhook_secret = "whsec_abc" });

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "stripe_mode_mismatch");
    }

    [Fact]
    public async Task A_key_stripe_rejects_is_invalid_and_not_stored()
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);

        var response = await tenant.Admin.PutAsJsonAsync($"{tenant.ModePath}/stripe", new { secret_key = "sk_test_unknown", webhook_secret = "whsec_abc" });

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "stripe_key_invalid");
        var product = await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/products", new { code = "X", kind = "subscription", stripe_price_id = "price_x" });
        await product.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "stripe_not_connected");
    }

    [Theory]
    [InlineData("{\"secret_key\": \"pk_test_abc\", \"webhook_secret\": \"whsec_abc\"}")]
    [InlineData("{\"secret_key\": \"sk_test_abc\", \"webhook_secret\": \"abc\"}")]
    [InlineData("{\"secret_key\": \"sk_test_abc\"}")]
    [InlineData("{\"secret_key\": 1, \"webhook_secret\": \"whsec_abc\"}")]
    public async Task Malformed_stripe_settings_are_refused(string body)
    {
        var tenant = await TestTenant.CreateAsync(app, connect: false);

        var response = await tenant.Admin.PutAsync($"{tenant.ModePath}/stripe", Problems.Json(body));

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Registering_the_webhook_without_a_public_base_url_is_refused_and_changes_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var key = "sk_test_" + Guid.NewGuid().ToString("N");
        app.Stripe.AddKey(key, livemode: false);
        var before = await StoredState.SnapshotAsync(app);

        var response = await tenant.Admin.PutAsJsonAsync($"{tenant.ModePath}/stripe", new { secret_key = key, register_webhook = true });

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "public_base_url_not_set");
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
        Assert.Equal(0, app.Stripe.RequestCount("/v1/webhook_endpoints"));
    }

    [Fact]
    public async Task Per_mode_routes_check_tenant_and_mode()
    {
        var admin = app.AdminClient();

        await (await admin.GetAsync("/v1/admin/tenants/ten_nobody/modes/test/products")).AssertProblemAsync(HttpStatusCode.NotFound, "unknown_tenant");
        var tenant = await TestTenant.CreateAsync(app, connect: false);
        await (await admin.GetAsync($"/v1/admin/tenants/{tenant.TenantId}/modes/staging/products")).AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_mode");
    }

    [Fact]
    public async Task Products_are_defined_and_listed_per_mode()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var products = await (await tenant.Admin.GetAsync($"{tenant.ModePath}/products")).OkJsonAsync();
        var live = await (await tenant.Admin.GetAsync($"/v1/admin/tenants/{tenant.TenantId}/modes/live/products")).OkJsonAsync();

        var codes = products.GetProperty("products").EnumerateArray().Select(p => p.GetProperty("code").GetString()).ToList();
        Assert.Equal([TestTenant.Subscription, TestTenant.DayPass, TestTenant.Credits], codes);
        Assert.Empty(live.GetProperty("products").EnumerateArray());
        var pass = products.GetProperty("products")[1];
        Assert.Equal("time_pass", pass.GetProperty("kind").GetString());
        Assert.Equal(1, pass.GetProperty("duration_days").GetInt32());
        Assert.Equal(7, pass.GetProperty("grace_period_days").GetInt32());
        Assert.Equal(0, pass.GetProperty("payment_failure_grace_days").GetInt32());
        Assert.Equal(JsonValueKind.Null, pass.GetProperty("name").ValueKind);
        Assert.False(pass.GetProperty("issue_license").GetBoolean());
    }

    [Fact]
    public async Task A_product_with_a_name_and_issue_license_is_a_license_policy_kept_as_defined()
    {
        var tenant = await TestTenant.CreateAsync(app, products: false);

        var created = await tenant.DefineProductAsync(
            new { code = "STARTER", kind = "subscription", name = "Starter Plan", issue_license = true, features = new[] { "export" } }, "recurring");
        var listed = (await (await tenant.Admin.GetAsync($"{tenant.ModePath}/products")).OkJsonAsync()).GetProperty("products")[0];

        foreach (var product in new[] { created, listed })
        {
            Assert.Equal("Starter Plan", product.GetProperty("name").GetString());
            Assert.True(product.GetProperty("issue_license").GetBoolean());
        }
    }

    [Theory]
    [InlineData("inactive", "stripe_price_inactive")]
    [InlineData("live", "stripe_mode_mismatch")]
    [InlineData("one_time_for_subscription", "stripe_price_type_mismatch")]
    [InlineData("recurring_for_pass", "stripe_price_type_mismatch")]
    [InlineData("missing", "stripe_price_not_found")]
    public async Task The_price_is_checked_against_stripe(string price, string code)
    {
        var tenant = await TestTenant.CreateAsync(app, products: false);
        var priceId = "price_" + Guid.NewGuid().ToString("N");
        if (price != "missing")
        {
            app.Stripe.AddPrice(priceId, active: price != "inactive", livemode: price == "live",
                type: price is "one_time_for_subscription" ? "one_time" : "recurring");
        }
        object definition = price == "recurring_for_pass"
            ? new { code = "PASS", kind = "time_pass", stripe_price_id = priceId, duration_days = 30 }
            : new { code = "PRO", kind = "subscription", stripe_price_id = priceId };

        var response = await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/products", definition);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, code);
        var products = await (await tenant.Admin.GetAsync($"{tenant.ModePath}/products")).OkJsonAsync();
        Assert.Empty(products.GetProperty("products").EnumerateArray());
    }

    [Fact]
    public async Task A_restricted_key_that_may_not_read_prices_is_the_operators_to_fix_not_a_5xx()
    {
        var tenant = await TestTenant.CreateAsync(app, products: false);
        var priceId = "price_" + Guid.NewGuid().ToString("N");
        app.Stripe.AddPrice(priceId);
        app.Stripe.FailNext($"/v1/prices/{priceId}", 1, 403);

        var response = await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/products", new { code = "PRO", kind = "subscription", stripe_price_id = priceId });

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "stripe_key_invalid");
        var products = await (await tenant.Admin.GetAsync($"{tenant.ModePath}/products")).OkJsonAsync();
        Assert.Empty(products.GetProperty("products").EnumerateArray());
    }

    [Theory]
    [InlineData("{\"code\": \"PACK\", \"kind\": \"usage_pack\", \"stripe_price_id\": \"price_1\"}", "usage_units")]
    [InlineData("{\"code\": \"PASS\", \"kind\": \"time_pass\", \"stripe_price_id\": \"price_1\"}", "duration_days")]
    [InlineData("{\"code\": \"PRO\", \"kind\": \"subscription\", \"stripe_price_id\": \"price_1\", \"grace_period_days\": 5}", "grace_period_days")]
    [InlineData("{\"code\": \"PRO\", \"kind\": \"lifetime\", \"stripe_price_id\": \"price_1\"}", "kind")]
    [InlineData("{\"code\": \"price_1\", \"kind\": \"subscription\", \"stripe_price_id\": \"price_1\"}", "code")]
    [InlineData("{\"code\": \"PRO\", \"kind\": \"subscription\", \"stripe_price_id\": \"prod_1\"}", "stripe_price_id")]
    [InlineData("{\"code\": \"PRO\", \"kind\": \"subscription\", \"stripe_price_id\": \"price_1\", \"features\": \"export\"}", "features")]
    [InlineData("{\"kind\": \"subscription\", \"stripe_price_id\": \"price_1\"}", "code")]
    [InlineData("{\"code\": \"PRO\", \"kind\": \"subscription\", \"stripe_price_id\": \"price_1\", \"name\": \"   \"}", "name")]
    [InlineData("{\"code\": \"PRO\", \"kind\": \"subscription\", \"stripe_price_id\": \"price_1\", \"name\": 7}", "name")]
    [InlineData("{\"code\": \"PRO\", \"kind\": \"subscription\", \"stripe_price_id\": \"price_1\", \"issue_license\": \"yes\"}", "issue_license")]
    [InlineData("{\"code\": \"PRO\", \"kind\": \"subscription\", \"stripe_price_id\": \"price_1\", \"issue_license\": 1}", "issue_license")]
    public async Task Invalid_product_definitions_name_the_field(string body, string field)
    {
        var tenant = await TestTenant.CreateAsync(app, products: false);

        var response = await tenant.Admin.PostAsync($"{tenant.ModePath}/products", Problems.Json(body));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
    }

    [Fact]
    public async Task A_product_code_is_taken_once_per_mode()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var priceId = "price_" + Guid.NewGuid().ToString("N");
        app.Stripe.AddPrice(priceId, type: "recurring");

        var response = await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/products",
            new { code = TestTenant.Subscription, kind = "subscription", stripe_price_id = priceId });

        await response.AssertProblemAsync(HttpStatusCode.Conflict, "product_exists");
    }

    [Fact]
    public async Task A_key_is_shown_once_and_stops_working_when_revoked()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var created = await (await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/api-keys", new { name = "backend" })).OkJsonAsync(HttpStatusCode.Created);
        var key = created.GetProperty("key").GetString()!;
        Assert.StartsWith("lz_test_", key);
        Assert.Equal("test", created.GetProperty("mode").GetString());
        var client = app.RuntimeClient(key);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/access/check", new { subject_ref = "u1" })).StatusCode);

        var revoked = await tenant.Admin.DeleteAsync($"{tenant.ModePath}/api-keys/{created.GetProperty("id").GetString()}");

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await (await client.PostAsJsonAsync("/v1/access/check", new { subject_ref = "u1" })).AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
        Assert.Equal(HttpStatusCode.OK, (await tenant.Runtime.PostAsJsonAsync("/v1/access/check", new { subject_ref = "u1" })).StatusCode);
        var again = await tenant.Admin.DeleteAsync($"{tenant.ModePath}/api-keys/{created.GetProperty("id").GetString()}");
        await again.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_api_key");
    }

    [Fact]
    public async Task A_key_cannot_be_revoked_through_another_tenant()
    {
        var owner = await TestTenant.CreateAsync(app);
        var other = await TestTenant.CreateAsync(app);
        var created = await (await owner.Admin.PostAsJsonAsync($"{owner.ModePath}/api-keys", new { })).OkJsonAsync(HttpStatusCode.Created);

        var response = await other.Admin.DeleteAsync($"{other.ModePath}/api-keys/{created.GetProperty("id").GetString()}");

        await response.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_api_key");
        var client = app.RuntimeClient(created.GetProperty("key").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/access/check", new { subject_ref = "u1" })).StatusCode);
    }

    [Fact]
    public async Task Tenants_are_listed_with_id_name_and_creation_time_oldest_first()
    {
        var admin = app.AdminClient();
        var first = await (await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "First & Co" })).OkJsonAsync(HttpStatusCode.Created);
        var second = await (await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "Second" })).OkJsonAsync(HttpStatusCode.Created);

        var listed = (await (await admin.GetAsync("/v1/admin/tenants")).OkJsonAsync()).GetProperty("tenants").EnumerateArray().ToList();

        var ids = listed.Select(t => t.GetProperty("tenant_id").GetString()).ToList();
        var (a, b) = (ids.IndexOf(first.GetProperty("tenant_id").GetString()), ids.IndexOf(second.GetProperty("tenant_id").GetString()));
        Assert.True(a >= 0 && b > a, string.Join(", ", ids));
        Assert.Equal("First & Co", listed[a].GetProperty("name").GetString());
        Assert.Equal(app.Clock.GetUtcNow(), listed[a].GetProperty("created_at").GetDateTimeOffset());
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public async Task Keys_are_listed_with_a_hint_and_last_use_and_a_revoked_one_stays_listed_as_revoked()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var created = await (await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/api-keys", new { name = "backend" })).OkJsonAsync(HttpStatusCode.Created);
        var (id, key) = (created.GetProperty("id").GetString()!, created.GetProperty("key").GetString()!);
        var usedAt = app.Clock.GetUtcNow();
        Assert.Equal(HttpStatusCode.OK, (await app.RuntimeClient(key).PostAsJsonAsync("/v1/access/check", new { subject_ref = "u1" })).StatusCode);
        app.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.DeleteAsync($"{tenant.ModePath}/api-keys/{id}")).StatusCode);

        var response = await tenant.Admin.GetAsync($"{tenant.ModePath}/api-keys");

        var body = await response.OkJsonAsync();
        Assert.DoesNotContain(key, body.GetRawText());
        Assert.DoesNotContain(tenant.ApiKey, body.GetRawText());
        var keys = body.GetProperty("api_keys").EnumerateArray().ToList();
        Assert.Equal(2, keys.Count);
        var unused = keys[0];
        Assert.Equal("test", unused.GetProperty("name").GetString());
        Assert.Equal(tenant.ApiKey[^4..], unused.GetProperty("hint").GetString());
        Assert.Equal(JsonValueKind.Null, unused.GetProperty("last_used_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, unused.GetProperty("revoked_at").ValueKind);
        var revoked = keys[1];
        Assert.Equal(id, revoked.GetProperty("id").GetString());
        Assert.Equal("backend", revoked.GetProperty("name").GetString());
        Assert.Equal("test", revoked.GetProperty("mode").GetString());
        Assert.Equal(key[^4..], revoked.GetProperty("hint").GetString());
        Assert.Equal(usedAt, revoked.GetProperty("created_at").GetDateTimeOffset());
        Assert.True(revoked.GetProperty("last_used_at").ValueKind == JsonValueKind.String, body.GetRawText());
        Assert.Equal(usedAt, revoked.GetProperty("last_used_at").GetDateTimeOffset());
        Assert.Equal(usedAt.AddMinutes(5), revoked.GetProperty("revoked_at").GetDateTimeOffset());
        await (await app.RuntimeClient(key).PostAsJsonAsync("/v1/access/check", new { subject_ref = "u1" })).AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
        var live = await (await tenant.Admin.GetAsync($"/v1/admin/tenants/{tenant.TenantId}/modes/live/api-keys")).OkJsonAsync();
        Assert.Empty(live.GetProperty("api_keys").EnumerateArray());
    }

    [Fact]
    public async Task A_product_is_updated_field_by_field_and_the_rest_is_kept()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var response = await tenant.Admin.PatchAsJsonAsync($"{tenant.ModePath}/products/{TestTenant.Subscription}",
            new { name = "Pro", features = new[] { "export", "sso" }, grace_period_days = 30, payment_failure_grace_days = 3, issue_license = true });

        var updated = await response.OkJsonAsync();
        var listed = (await (await tenant.Admin.GetAsync($"{tenant.ModePath}/products")).OkJsonAsync()).GetProperty("products")[0];
        foreach (var product in new[] { updated, listed })
        {
            Assert.Equal(TestTenant.Subscription, product.GetProperty("code").GetString());
            Assert.Equal("subscription", product.GetProperty("kind").GetString());
            Assert.Equal(tenant.PriceIds[TestTenant.Subscription], product.GetProperty("stripe_price_id").GetString());
            Assert.Equal("Pro", product.GetProperty("name").GetString());
            Assert.Equal(["export", "sso"], product.GetProperty("features").EnumerateArray().Select(f => f.GetString()));
            Assert.Equal(30, product.GetProperty("grace_period_days").GetInt32());
            Assert.Equal(3, product.GetProperty("payment_failure_grace_days").GetInt32());
            Assert.True(product.GetProperty("issue_license").GetBoolean());
            Assert.False(product.GetProperty("archived").GetBoolean());
        }
        var again = await (await tenant.Admin.PatchAsJsonAsync($"{tenant.ModePath}/products/{TestTenant.Subscription}", new { name = (string?)null })).OkJsonAsync();
        Assert.Equal(JsonValueKind.Null, again.GetProperty("name").ValueKind);
        Assert.Equal(30, again.GetProperty("grace_period_days").GetInt32());
    }

    [Theory]
    [InlineData("{\"grace_period_days\": 5}", "grace_period_days")]
    [InlineData("{\"grace_period_days\": null}", "grace_period_days")]
    [InlineData("{\"payment_failure_grace_days\": 31}", "payment_failure_grace_days")]
    [InlineData("{\"payment_failure_grace_days\": -1}", "payment_failure_grace_days")]
    [InlineData("{\"features\": \"export\"}", "features")]
    [InlineData("{\"features\": [\"a b\"]}", "features")]
    [InlineData("{\"features\": [\"x\", \"x\"]}", "features")]
    [InlineData("{\"name\": \"   \"}", "name")]
    [InlineData("{\"name\": 7}", "name")]
    [InlineData("{\"issue_license\": \"yes\"}", "issue_license")]
    [InlineData("{\"archived\": 1}", "archived")]
    [InlineData("{\"archived\": null}", "archived")]
    [InlineData("{\"kind\": \"time_pass\"}", "kind")]
    [InlineData("{\"stripe_price_id\": \"price_other\"}", "stripe_price_id")]
    [InlineData("{\"code\": \"OTHER\", \"name\": \"x\"}", "code")]
    [InlineData("{\"usage_units\": 5}", "usage_units")]
    public async Task An_invalid_product_update_names_the_field_and_changes_nothing(string body, string field)
    {
        var tenant = await TestTenant.CreateAsync(app);
        var before = await StoredState.SnapshotAsync(app);

        var response = await tenant.Admin.PatchAsync($"{tenant.ModePath}/products/{TestTenant.Subscription}", Problems.Json(body));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
    }

    [Fact]
    public async Task Fixed_fields_sent_unchanged_are_accepted()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var response = await tenant.Admin.PatchAsJsonAsync($"{tenant.ModePath}/products/{TestTenant.Credits}",
            new { code = TestTenant.Credits, kind = "usage_pack", usage_units = 50, stripe_price_id = tenant.PriceIds[TestTenant.Credits], name = "Credits" });

        Assert.Equal("Credits", (await response.OkJsonAsync()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Updating_an_unknown_product_is_not_found_and_changes_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var before = await StoredState.SnapshotAsync(app);

        var unknown = await tenant.Admin.PatchAsJsonAsync($"{tenant.ModePath}/products/NOPE", new { name = "x" });
        var otherMode = await tenant.Admin.PatchAsJsonAsync($"/v1/admin/tenants/{tenant.TenantId}/modes/live/products/{TestTenant.Subscription}", new { archived = true });
        var otherTenant = await tenant.Admin.PatchAsJsonAsync($"/v1/admin/tenants/ten_nobody/modes/test/products/{TestTenant.Subscription}", new { archived = true });

        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_product");
        await otherMode.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_product");
        await otherTenant.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_tenant");
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
    }

    [Fact]
    public async Task An_archived_product_cannot_be_bought_but_what_was_bought_keeps_working_and_its_events_still_apply()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("bought_before", TestTenant.DayPass);
        var started = await tenant.StartCheckoutAsync("paying_now", TestTenant.DayPass);

        var archived = await tenant.Admin.PatchAsJsonAsync($"{tenant.ModePath}/products/{TestTenant.DayPass}", new { archived = true });

        Assert.True((await archived.OkJsonAsync()).GetProperty("archived").GetBoolean());
        var checkout = await tenant.Runtime.PostAsJsonAsync("/v1/checkout/session", new { subject_ref = "new_buyer", product_code = TestTenant.DayPass });
        await checkout.AssertProblemAsync(HttpStatusCode.Conflict, "product_archived");
        Assert.True(await tenant.IsAllowedAsync("bought_before", "export"));
        await tenant.DeliverAsync(StripeEvents.CheckoutSession("checkout.session.completed", tenant.NextEventId(), app.Clock.GetUtcNow(), started, "paid"));
        Assert.True(await tenant.IsAllowedAsync("paying_now"));
        Assert.False(await tenant.IsAllowedAsync("new_buyer"));

        await tenant.Admin.PatchAsJsonAsync($"{tenant.ModePath}/products/{TestTenant.DayPass}", new { archived = false });
        await tenant.StartCheckoutAsync("new_buyer", TestTenant.DayPass);
    }

    [Fact]
    public async Task A_dead_letter_is_applied_again_once_its_product_exists_and_leaves_the_list()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var eventId = tenant.NextEventId();
        var metadata = new Dictionary<string, string>
        {
            ["licenzy_tenant"] = tenant.TenantId, ["licenzy_mode"] = "test", ["licenzy_subject"] = "late_buyer", ["licenzy_product"] = "LATE_PACK",
        };
        await tenant.DeliverAsync(StripeEvents.CheckoutSession("checkout.session.completed", eventId, app.Clock.GetUtcNow(), "cs_late_" + tenant.TenantId,
            metadata, "payment", "paid"));
        await app.Deliveries.WaitAsync(Licenzy.Infrastructure.Topics.BillingEventsDeadLetter, eventId);
        var path = $"{tenant.ModePath}/dead-letters/{eventId}/retry";

        var early = await (await tenant.Admin.PostAsync(path, null)).OkJsonAsync(HttpStatusCode.Accepted);
        Assert.False(early.GetProperty("applied").GetBoolean());
        Assert.Contains("LATE_PACK", early.GetProperty("reason").GetString());
        Assert.Equal([eventId], await DeadLetterIdsAsync(tenant));
        Assert.False(await tenant.IsAllowedAsync("late_buyer"));

        await tenant.DefineProductAsync(new { code = "LATE_PACK", kind = "usage_pack", usage_units = 10 }, "one_time");
        var retried = await (await tenant.Admin.PostAsync(path, null)).OkJsonAsync(HttpStatusCode.Accepted);

        Assert.True(retried.GetProperty("applied").GetBoolean());
        Assert.Empty(await DeadLetterIdsAsync(tenant));
        Assert.True(await tenant.IsAllowedAsync("late_buyer"));
        Assert.Equal(10, (await tenant.EntitlementsAsync("late_buyer")).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
        await (await tenant.Admin.PostAsync(path, null)).AssertProblemAsync(HttpStatusCode.NotFound, "unknown_dead_letter");
    }

    [Fact]
    public async Task Retrying_an_unknown_dead_letter_is_not_found_and_changes_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var before = await StoredState.SnapshotAsync(app);

        var unknown = await tenant.Admin.PostAsync($"{tenant.ModePath}/dead-letters/evt_nothing/retry", null);
        var live = await tenant.Admin.PostAsync($"/v1/admin/tenants/{tenant.TenantId}/modes/live/dead-letters/evt_nothing/retry", null);
        var noTenant = await tenant.Admin.PostAsync("/v1/admin/tenants/ten_nobody/modes/test/dead-letters/evt_nothing/retry", null);

        await unknown.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_dead_letter");
        await live.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_dead_letter");
        await noTenant.AssertProblemAsync(HttpStatusCode.NotFound, "unknown_tenant");
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
    }

    private static async Task<List<string?>> DeadLetterIdsAsync(TestTenant tenant) =>
        [.. (await (await tenant.Admin.GetAsync($"{tenant.ModePath}/dead-letters")).OkJsonAsync()).GetProperty("events").EnumerateArray()
            .Select(e => e.GetProperty("event_id").GetString())];

    [Fact]
    public async Task Unknown_routes_and_methods_answer_problem_json()
    {
        var client = app.AdminClient();

        await (await client.GetAsync("/v1/nothing-here")).AssertProblemAsync(HttpStatusCode.NotFound, "not_found");
        await (await client.DeleteAsync("/v1/admin/tenants")).AssertProblemAsync(HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }

    [Fact]
    public async Task Health_endpoints_answer()
    {
        var client = app.ApiClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
    }
}

/// <summary>The setup API on embedded components, and what it leaves in the SQLite file.</summary>
public sealed class SetupApiTestsOnEmbedded(LicenzyApp app) : SetupApiTests(app), IClassFixture<LicenzyApp>
{
    [Fact]
    public async Task A_key_is_stored_only_as_the_SHA_256_of_its_UTF8_bytes_the_format_keys_already_issued_have()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var created = await (await tenant.Admin.PostAsJsonAsync($"{tenant.ModePath}/api-keys", new { })).OkJsonAsync(HttpStatusCode.Created);
        var key = created.GetProperty("key").GetString()!;
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));

        Assert.Equal(["apikey|" + hash], await StoredState.EmbeddedKeysMentioningAsync(app, "apikey|" + hash));
        Assert.Empty(await StoredState.EmbeddedKeysMentioningAsync(app, key));
        Assert.Equal(HttpStatusCode.OK, (await app.RuntimeClient(key).PostAsJsonAsync("/v1/access/check", new { subject_ref = "u1" })).StatusCode);
    }

    [Fact]
    public async Task Tenants_an_older_version_made_before_the_list_was_kept_are_listed_too()
    {
        var created = await (await app.AdminClient().PostAsJsonAsync("/v1/admin/tenants", new { name = "Made before lists" })).OkJsonAsync(HttpStatusCode.Created);
        var tenantId = created.GetProperty("tenant_id").GetString();
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(app.DataPath, "licenzy.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM state WHERE key = 'tenants';";
            await command.ExecuteNonQueryAsync();
        }
        var later = await (await app.AdminClient().PostAsJsonAsync("/v1/admin/tenants", new { name = "Made after" })).OkJsonAsync(HttpStatusCode.Created);

        var listed = (await (await app.AdminClient().GetAsync("/v1/admin/tenants")).OkJsonAsync()).GetProperty("tenants").EnumerateArray()
            .Select(t => t.GetProperty("tenant_id").GetString()).ToList();

        Assert.Contains(tenantId, listed);
        Assert.True(listed.IndexOf(tenantId) < listed.IndexOf(later.GetProperty("tenant_id").GetString()), string.Join(", ", listed));
        Assert.Equal(listed.Count, listed.Distinct().Count());
    }

    [Fact]
    public async Task A_dead_letter_listed_before_events_were_kept_beside_the_list_is_a_conflict_and_stays_listed()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var eventId = tenant.NextEventId();
        await tenant.DeliverAsync(StripeEvents.CheckoutSession("checkout.session.completed", eventId, app.Clock.GetUtcNow(), "cs_old_" + tenant.TenantId,
            new Dictionary<string, string> { ["licenzy_subject"] = "u1", ["licenzy_product"] = "GONE" }, "payment", "paid"));
        await app.Deliveries.WaitAsync(Licenzy.Infrastructure.Topics.BillingEventsDeadLetter, eventId);
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(app.DataPath, "licenzy.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM state WHERE key = $key;";
            command.Parameters.AddWithValue("$key", $"deadletter|{tenant.TenantId}|test|{eventId}");
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        var response = await tenant.Admin.PostAsync($"{tenant.ModePath}/dead-letters/{eventId}/retry", null);

        await response.AssertProblemAsync(HttpStatusCode.Conflict, "dead_letter_not_kept");
        var letters = await (await tenant.Admin.GetAsync($"{tenant.ModePath}/dead-letters")).OkJsonAsync();
        Assert.Equal(eventId, letters.GetProperty("events")[0].GetProperty("event_id").GetString());
    }

    [Fact]
    public async Task Stripe_secrets_are_not_stored_in_clear()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var database = await File.ReadAllBytesAsync(Path.Combine(app.DataPath, "licenzy.db"));
        var wal = Path.Combine(app.DataPath, "licenzy.db-wal");
        var everything = System.Text.Encoding.UTF8.GetString(database) + (File.Exists(wal) ? System.Text.Encoding.UTF8.GetString(await ReadSharedAsync(wal)) : "");

        Assert.DoesNotContain(tenant.SecretKey, everything);
        Assert.DoesNotContain(tenant.WebhookSecret, everything);
        Assert.DoesNotContain(tenant.ApiKey, everything);
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}

public sealed class SetupApiTestsOnDapr(DaprLicenzyApp app) : SetupApiTests(app), IClassFixture<DaprLicenzyApp>;

/// <summary>The setup API with two Api replicas: what one replica set up, the other serves at once.</summary>
public sealed class SetupApiTestsOnDaprReplicas(DaprCluster cluster) : SetupApiTests(cluster), IClassFixture<DaprCluster>;

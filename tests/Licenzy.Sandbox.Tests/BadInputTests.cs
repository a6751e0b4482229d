using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Licenzy.Sandbox.Account;

namespace Licenzy.Sandbox.Tests;

/// <summary>
/// A bad request to the sandbox gets a clear answer (problem details on the sandbox's own routes,
/// Stripe's error envelope on its stand-in for Stripe) and changes nothing.
/// </summary>
public sealed class BadInputTests(SandboxedLicenzy app) : IClassFixture<SandboxedLicenzy>
{
    public static TheoryData<string, string, string> BadTriggers => new()
    {
        // body, expected code, a word the detail or errors must name
        { "{\"tenant_id\":", "invalid_request", "not valid JSON" },
        { "[1,2]", "invalid_request", "JSON object" },
        { "{}", "invalid_request", "tenant_id" },
        { "{\"tenant_id\":\"TENANT\",\"event\":\"payment_failure\"}", "invalid_request", "subject_ref" },
        { "{\"tenant_id\":\"TENANT\",\"subject_ref\":\"user_1\"}", "invalid_request", "event" },
        { "{\"tenant_id\":\"TENANT\",\"subject_ref\":\"user_1\",\"event\":\"explode\"}", "invalid_request", "payment_failure" },
        { "{\"tenant_id\":\"TENANT\",\"subject_ref\":\"user_1\",\"event\":7}", "invalid_request", "event" },
        { "{\"tenant_id\":\"TENANT\",\"subject_ref\":\"not valid!\",\"event\":\"refund\"}", "invalid_subject_ref", "subject_ref" },
        { "{\"tenant_id\":\"TENANT\",\"subject_ref\":\"user_1\",\"event\":\"refund\",\"event\":\"refund\"}", "invalid_request", "'event' appears twice" },
        { "{\"tenant_id\":\"TENANT\",\"subject_ref\":\"user_1\\udc00\",\"event\":\"refund\"}", "invalid_request", "$.subject_ref" },
    };

    [Theory]
    [MemberData(nameof(BadTriggers))]
    public async Task A_bad_trigger_request_is_a_400_and_changes_nothing(string body, string code, string named)
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);
        var sentBefore = tenant.Webhooks.Count;

        var response = await tenant.Admin.PostAsync("/sandbox/triggers",
            new StringContent(body.Replace("TENANT", tenant.TenantId, StringComparison.Ordinal), Encoding.UTF8, "application/json"));

        var problem = await Problems.AssertProblemAsync(response, HttpStatusCode.BadRequest, code);
        Assert.Contains(named, problem.ToString(), StringComparison.Ordinal);
        await AssertUnchangedAsync(tenant, sentBefore);
    }

    [Fact]
    public async Task A_trigger_or_price_sent_as_another_media_type_is_415_and_changes_nothing()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);
        var sentBefore = tenant.Webhooks.Count;
        var prices = await PriceCountAsync();
        var trigger = $$"""{"tenant_id":"{{tenant.TenantId}}","subject_ref":"user_1","event":"refund"}""";

        var triggered = await tenant.Admin.PostAsync("/sandbox/triggers", new StringContent(trigger, Encoding.UTF8, "text/plain"));
        var priced = await app.AdminClient().PostAsync("/sandbox/prices", new StringContent("{\"type\":\"one_time\"}", Encoding.UTF8, "text/plain"));

        await Problems.AssertProblemAsync(triggered, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        await Problems.AssertProblemAsync(priced, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        await AssertUnchangedAsync(tenant, sentBefore);
        Assert.Equal(prices, await PriceCountAsync());
    }

    [Fact]
    public async Task Triggers_take_only_the_admin_token()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);
        var sentBefore = tenant.Webhooks.Count;
        var request = new { tenant_id = tenant.TenantId, subject_ref = "user_1", @event = "payment_failure" };

        var wrongToken = await app.RuntimeClient("not-the-admin-token").PostAsJsonAsync("/sandbox/triggers", request);
        var runtimeKey = await tenant.Runtime.PostAsJsonAsync("/sandbox/triggers", request);
        var none = await app.CreateClient().PostAsJsonAsync("/sandbox/triggers", request);

        await Problems.AssertProblemAsync(wrongToken, HttpStatusCode.Unauthorized, "invalid_admin_token");
        await Problems.AssertProblemAsync(runtimeKey, HttpStatusCode.Unauthorized, "invalid_admin_token");
        await Problems.AssertProblemAsync(none, HttpStatusCode.Unauthorized, "invalid_admin_token");
        await AssertUnchangedAsync(tenant, sentBefore);
    }

    [Fact]
    public async Task An_unknown_tenant_is_a_404()
    {
        var response = await app.AdminClient().PostAsJsonAsync("/sandbox/triggers",
            new { tenant_id = "ten_nobody", subject_ref = "user_1", @event = "renewal" });

        var problem = await Problems.AssertProblemAsync(response, HttpStatusCode.NotFound, "unknown_tenant");
        Assert.Contains("ten_nobody", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("user_1", "recovery", "payment_failure")]
    [InlineData("user_1", "dispute_won", "dispute")]
    [InlineData("user_1", "dispute_lost", "dispute")]
    [InlineData("someone_else", "payment_failure", "someone_else")]
    [InlineData("someone_else", "refund", "someone_else")]
    public async Task A_trigger_with_nothing_to_act_on_is_a_404_nothing_to_trigger(string subjectRef, string eventName, string named)
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", SandboxTenant.Subscription);
        var sentBefore = tenant.Webhooks.Count;

        var response = await tenant.TriggerAsync(subjectRef, eventName);

        var problem = await Problems.AssertProblemAsync(response, HttpStatusCode.NotFound, "nothing_to_trigger");
        Assert.Contains(named, problem.GetProperty("detail").GetString());
        await AssertUnchangedAsync(tenant, sentBefore);
    }

    [Fact]
    public async Task A_subscription_trigger_on_a_time_pass_has_nothing_to_act_on()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        await tenant.BuyAsync("pass_user", SandboxTenant.DayPass);

        var response = await tenant.TriggerAsync("pass_user", "renewal");

        await Problems.AssertProblemAsync(response, HttpStatusCode.NotFound, "nothing_to_trigger");
        Assert.True(await tenant.IsAllowedAsync("pass_user"));
    }

    [Fact]
    public async Task The_stripe_stand_in_wants_a_test_key()
    {
        using var none = app.CreateClient();
        using var live = app.RuntimeClient("sk_live_" + new string('a', 24));
        using var junk = app.RuntimeClient("pk_test_abc");

        var noKey = await Problems.AssertStripeErrorAsync(await none.GetAsync("/sandbox/stripe/v1/balance"), HttpStatusCode.Unauthorized, "invalid_request_error");
        var liveKey = await Problems.AssertStripeErrorAsync(await live.GetAsync("/sandbox/stripe/v1/balance"), HttpStatusCode.Unauthorized, "invalid_request_error");
        var junkKey = await Problems.AssertStripeErrorAsync(await junk.GetAsync("/sandbox/stripe/v1/balance"), HttpStatusCode.Unauthorized, "invalid_request_error");

        Assert.Contains("API key", noKey.GetProperty("message").GetString());
        Assert.Contains("test-mode only", liveKey.GetProperty("message").GetString());
        Assert.Contains("sk_test_", junkKey.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Connecting_live_mode_while_Licenzy_talks_to_the_sandbox_is_refused_and_says_why()
    {
        var tenant = await SandboxTenant.CreateAsync(app);

        var response = await tenant.Admin.PutAsJsonAsync($"/v1/admin/tenants/{tenant.TenantId}/modes/live/stripe",
            new { secret_key = "sk_live_" + new string('b', 24), webhook_secret = SandboxOptions.DefaultWebhookSecret });

        var problem = await Problems.AssertProblemAsync(response, HttpStatusCode.BadRequest, "stripe_key_invalid");
        Assert.Contains("test-mode only", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain("bbbbbbbb", problem.ToString());
    }

    [Fact]
    public async Task The_stripe_stand_in_answers_bad_requests_as_stripe_does()
    {
        using var stripe = app.RuntimeClient("sk_test_bad_requests");

        var noSuchPrice = await stripe.GetAsync("/sandbox/stripe/v1/prices/price_nope");
        var json = await stripe.PostAsync("/sandbox/stripe/v1/checkout/sessions", new StringContent("{\"mode\":\"payment\"}", Encoding.UTF8, "application/json"));
        var noMode = await stripe.PostAsync("/sandbox/stripe/v1/checkout/sessions", Form(("line_items[0][price]", SeededPrices.DayPass)));
        var unknownPrice = await stripe.PostAsync("/sandbox/stripe/v1/checkout/sessions", Form(("mode", "payment"), ("line_items[0][price]", "price_nope")));
        var wrongMode = await stripe.PostAsync("/sandbox/stripe/v1/checkout/sessions", Form(("mode", "payment"), ("line_items[0][price]", SeededPrices.ProMonthly)));
        var badEmail = await stripe.PostAsync("/sandbox/stripe/v1/checkout/sessions",
            Form(("mode", "payment"), ("line_items[0][price]", SeededPrices.DayPass), ("customer_email", "not an email")));
        var unknownRoute = await stripe.GetAsync("/sandbox/stripe/v1/customers");

        Assert.Equal("resource_missing", (await Problems.AssertStripeErrorAsync(noSuchPrice, HttpStatusCode.NotFound, "invalid_request_error")).GetProperty("code").GetString());
        Assert.Contains("form-encoded", (await Problems.AssertStripeErrorAsync(json, HttpStatusCode.BadRequest, "invalid_request_error")).GetProperty("message").GetString());
        Assert.Equal("mode", (await Problems.AssertStripeErrorAsync(noMode, HttpStatusCode.BadRequest, "invalid_request_error")).GetProperty("param").GetString());
        Assert.Equal("resource_missing", (await Problems.AssertStripeErrorAsync(unknownPrice, HttpStatusCode.BadRequest, "invalid_request_error")).GetProperty("code").GetString());
        Assert.Contains("subscription", (await Problems.AssertStripeErrorAsync(wrongMode, HttpStatusCode.BadRequest, "invalid_request_error")).GetProperty("message").GetString());
        Assert.Equal("customer_email", (await Problems.AssertStripeErrorAsync(badEmail, HttpStatusCode.BadRequest, "invalid_request_error")).GetProperty("param").GetString());
        Assert.Contains("Unrecognized request URL", (await Problems.AssertStripeErrorAsync(unknownRoute, HttpStatusCode.NotFound, "invalid_request_error")).GetProperty("message").GetString());
    }

    [Fact]
    public async Task The_stripe_stand_in_replays_an_idempotent_request_and_refuses_a_reused_key()
    {
        using var stripe = app.RuntimeClient("sk_test_idempotency");
        HttpRequestMessage Request(string price)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/sandbox/stripe/v1/checkout/sessions")
            {
                Content = Form(("mode", "payment"), ("line_items[0][price]", price)),
            };
            request.Headers.Add("Idempotency-Key", "attempt-42");
            return request;
        }

        var first = await stripe.SendAsync(Request(SeededPrices.DayPass));
        var replay = await stripe.SendAsync(Request(SeededPrices.DayPass));
        var reused = await stripe.SendAsync(Request(SeededPrices.Credits100));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await replay.Content.ReadAsStringAsync());
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        await Problems.AssertStripeErrorAsync(reused, HttpStatusCode.BadRequest, "idempotency_error");
    }

    [Theory]
    [InlineData("{\"type\":", "invalid_request")]
    [InlineData("{}", "invalid_request")]
    [InlineData("{\"type\":\"weekly\"}", "invalid_request")]
    [InlineData("{\"type\":\"one_time\",\"id\":\"prod_x\"}", "invalid_request")]
    [InlineData("{\"type\":\"one_time\",\"unit_amount\":-1}", "invalid_request")]
    [InlineData("{\"type\":\"one_time\",\"currency\":\"dollars\"}", "invalid_request")]
    [InlineData("{\"type\":\"one_time\",\"type\":\"recurring\"}", "invalid_request")]
    [InlineData("{\"type\":\"one_time\",\"nickname\":\"a\\ud800\"}", "invalid_request")]
    public async Task A_bad_price_is_a_400_and_adds_nothing(string body, string code)
    {
        var before = await PriceCountAsync();

        var response = await app.AdminClient().PostAsync("/sandbox/prices", new StringContent(body, Encoding.UTF8, "application/json"));

        await Problems.AssertProblemAsync(response, HttpStatusCode.BadRequest, code);
        Assert.Equal(before, await PriceCountAsync());
    }

    [Fact]
    public async Task A_price_id_is_added_once_and_only_with_the_admin_token()
    {
        var price = new { id = "price_team_" + Guid.NewGuid().ToString("N")[..8], type = "recurring" };

        var unauthorized = await app.RuntimeClient("wrong").PostAsJsonAsync("/sandbox/prices", price);
        var added = await app.AdminClient().PostAsJsonAsync("/sandbox/prices", price);
        var again = await app.AdminClient().PostAsJsonAsync("/sandbox/prices", price);

        await Problems.AssertProblemAsync(unauthorized, HttpStatusCode.Unauthorized, "invalid_admin_token");
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        await Problems.AssertProblemAsync(again, HttpStatusCode.Conflict, "price_exists");
    }

    private async Task<int> PriceCountAsync() =>
        (await app.AdminClient().GetFromJsonAsync<JsonElement>("/sandbox/prices")).GetProperty("prices").GetArrayLength();

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    /// <summary>Nothing was sent to Licenzy, and the subject still has the access it had.</summary>
    private static async Task AssertUnchangedAsync(SandboxTenant tenant, int sentBefore)
    {
        Assert.Equal(sentBefore, tenant.Webhooks.Count);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
        var entitlement = Assert.Single((await tenant.EntitlementsAsync("user_1")).EnumerateArray());
        Assert.Equal("active", entitlement.GetProperty("status").GetString());
    }
}

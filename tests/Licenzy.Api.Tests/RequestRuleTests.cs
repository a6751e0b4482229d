using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Licenzy.Testing;
using static Licenzy.Testing.MalformedJson;

namespace Licenzy.Api.Tests;

/// <summary>
/// API.md's "Requests" rule, route by route: the media type, one JSON object in valid UTF-8 with
/// valid Unicode and no member twice. Each refused body gets its 4xx problem, and nothing is
/// stored: the tenant's user holds credits that a wrongly read consume would spend.
/// </summary>
public abstract class RequestRuleTests(ILicenzyHost app)
{
    private const string Subject = "user_1";

    public sealed record Route(string Name, HttpMethod Method, bool Setup, Func<TestTenant, string> Path, Member[] Members, bool Idempotent = false)
    {
        public override string ToString() => Name;
    }

    public static readonly Route[] Routes =
    [
        new("checkout", HttpMethod.Post, false, _ => "/v1/checkout/session",
            [new("subject_ref", $"\"{Subject}\""), new("product_code", $"\"{TestTenant.Credits}\""), new("success_url", "\"https://app.example/thanks\"")]),
        new("access check", HttpMethod.Post, false, _ => "/v1/access/check", [new("subject_ref", $"\"{Subject}\""), new("feature", "\"export\"")]),
        new("consume", HttpMethod.Post, false, _ => "/v1/usage/consume", [new("subject_ref", $"\"{Subject}\""), new("units", "1")], Idempotent: true),
        new("validate license", HttpMethod.Post, false, _ => "/v1/licenses/validate", [new("key", "\"LZ-0000\""), new("feature", "\"export\"")]),
        new("create tenant", HttpMethod.Post, true, _ => "/v1/admin/tenants", [new("name", "\"Acme\"")]),
        new("connect stripe", HttpMethod.Put, true, t => $"{t.ModePath}/stripe",
            [new("secret_key", "\"sk_test_abcdefghijklmnopqrstuvwx\""), new("webhook_secret", "\"whsec_abcdefghijklmnopqrstuvwxyz012345\"")]),
        new("create product", HttpMethod.Post, true, t => $"{t.ModePath}/products",
            [new("code", "\"NEW_PACK\""), new("kind", "\"usage_pack\""), new("usage_units", "5"), new("stripe_price_id", "\"price_newpack\"")]),
        new("update product", HttpMethod.Patch, true, t => $"{t.ModePath}/products/{TestTenant.Credits}",
            [new("name", "\"Credits\""), new("grace_period_days", "3")]),
        new("issue api key", HttpMethod.Post, true, t => $"{t.ModePath}/api-keys", [new("name", "\"ci\"")]),
        new("create webhook endpoint", HttpMethod.Post, true, t => $"{t.ModePath}/webhook-endpoints",
            [new("url", "\"https://93.184.215.14/licenzy\""), new("events", "[\"license.created\"]")]),
    ];

    public static TheoryData<string> RouteNames() => new(Routes.Select(route => route.Name));

    private static Route Named(string name) => Routes.Single(route => route.Name == name);

    private async Task<TestTenant> TenantWithCreditsAsync()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync(Subject, TestTenant.Credits);
        return tenant;
    }

    private static HttpRequestMessage Request(TestTenant tenant, Route route, HttpContent content, int attempt = 0)
    {
        var request = new HttpRequestMessage(route.Method, route.Path(tenant)) { Content = content };
        if (route.Idempotent) request.Headers.Add("Idempotency-Key", $"rule-{attempt}");
        return request;
    }

    private static HttpClient Client(TestTenant tenant, Route route) => route.Setup ? tenant.Admin : tenant.Runtime;

    private static ByteArrayContent Bytes(byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    [Theory]
    [MemberData(nameof(RouteNames))]
    public async Task A_body_of_another_media_type_is_415_and_changes_nothing(string routeName)
    {
        var route = Named(routeName);
        var tenant = await TenantWithCreditsAsync();
        var before = await StoredState.SnapshotAsync(app);

        foreach (var (contentType, attempt) in new[] { "text/plain", null, "application/json; charset=iso-8859-1", "application/x-www-form-urlencoded", "application/jsonx" }
            .Select((type, i) => (type, i)))
        {
            var response = await Client(tenant, route).SendAsync(Request(tenant, route, Bytes(Object(route.Members), contentType), attempt));
            var problem = await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
            Assert.Contains("application/json", problem.GetProperty("detail").GetString());
        }

        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
    }

    [Theory]
    [InlineData("application/json; charset=UTF-8")]
    [InlineData("application/json; charset=\"utf-8\"")]
    [InlineData("Application/JSON")]
    public async Task Json_with_a_utf8_charset_parameter_is_read(string contentType)
    {
        var tenant = await TenantWithCreditsAsync();

        var response = await tenant.Runtime.SendAsync(Request(tenant, Named("consume"), Bytes(Object(Named("consume").Members), contentType)));

        Assert.Equal(49, (await response.OkJsonAsync()).GetProperty("usage_remaining").GetInt64());
    }

    [Fact]
    public async Task A_repeated_units_member_is_refused_and_spends_nothing()
    {
        var tenant = await TenantWithCreditsAsync();
        var body = """{"subject_ref":"user_1","units":1,"units":40}"""u8.ToArray();

        var response = await tenant.Runtime.SendAsync(Request(tenant, Named("consume"), Bytes(body, "application/json")));

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        Assert.Contains("'units' appears twice", problem.GetProperty("detail").GetString());
        var entitlements = await tenant.EntitlementsAsync(Subject);
        Assert.Equal(50, entitlements.GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Fact]
    public async Task A_repeated_subject_is_refused_rather_than_answered_about_either()
    {
        var tenant = await TenantWithCreditsAsync();
        var body = Encoding.UTF8.GetBytes($$"""{"subject_ref":"nobody","subject_ref":"{{Subject}}"}""");

        var response = await tenant.Runtime.SendAsync(Request(tenant, Named("access check"), Bytes(body, "application/json")));

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
    }

    [Theory]
    [InlineData("\"a\\ud800b\"", "unpaired surrogate", "$.subject_ref")]
    [InlineData("\"a\\udc00\"", "unpaired surrogate", "$.subject_ref")]
    public async Task A_subject_with_an_unpaired_surrogate_is_refused_naming_where(string subjectJson, string what, string where)
    {
        var tenant = await TenantWithCreditsAsync();
        var body = Encoding.UTF8.GetBytes($$"""{"subject_ref":{{subjectJson}},"units":1}""");

        var response = await tenant.Runtime.SendAsync(Request(tenant, Named("consume"), Bytes(body, "application/json")));

        var detail = (await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request")).GetProperty("detail").GetString();
        Assert.Contains(what, detail);
        Assert.Contains(where, detail);
    }

    [Fact]
    public async Task Invalid_utf8_in_an_unknown_member_is_refused_and_spends_nothing()
    {
        var tenant = await TenantWithCreditsAsync();
        byte[] body = [.. """{"subject_ref":"user_1","units":5,"note":"a"""u8, 0xFF, .. "\"}"u8];

        var response = await tenant.Runtime.SendAsync(Request(tenant, Named("consume"), Bytes(body, "application/json")));

        var detail = (await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request")).GetProperty("detail").GetString();
        Assert.Contains("$.note", detail);
        Assert.Contains("UTF-8", detail);
        var entitlements = await tenant.EntitlementsAsync(Subject);
        Assert.Equal(50, entitlements.GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Fact]
    public async Task A_dead_letter_retry_takes_no_body_but_one_sent_must_be_json_and_a_refused_one_changes_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var eventId = tenant.NextEventId();
        await tenant.DeliverAsync(Licenzy.Testing.StripeEvents.CheckoutSession("checkout.session.completed", eventId, app.Clock.GetUtcNow(),
            "cs_rule_" + tenant.TenantId, new Dictionary<string, string> { ["licenzy_subject"] = Subject, ["licenzy_product"] = "NOT_YET" }, "payment", "paid"));
        await app.Deliveries.WaitAsync(Licenzy.Infrastructure.Topics.BillingEventsDeadLetter, eventId);
        var path = $"{tenant.ModePath}/dead-letters/{eventId}/retry";
        var before = await StoredState.SnapshotAsync(app);

        var text = await tenant.Admin.PostAsync(path, Bytes("{}"u8.ToArray(), "text/plain"));
        var broken = await tenant.Admin.PostAsync(path, Bytes("{\"a\":1,\"a\":2}"u8.ToArray(), "application/json"));
        var huge = await tenant.Admin.PostAsync(path, Bytes(Encoding.UTF8.GetBytes($"{{\"a\":\"{new string('x', 70_000)}\"}}"), "application/json"));

        await text.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        await broken.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        await huge.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, "request_too_large");
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
        Assert.Equal(HttpStatusCode.Accepted, (await tenant.Admin.PostAsync(path, Bytes("{}"u8.ToArray(), "application/json"))).StatusCode);
    }

    [Fact]
    public async Task A_tenant_is_not_created_from_a_repeated_name()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var before = await StoredState.SnapshotAsync(app);

        var response = await tenant.Admin.SendAsync(Request(tenant, Named("create tenant"), Bytes("""{"name":"","name":"dup"}"""u8.ToArray(), "application/json")));

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
    }

    [Fact]
    public async Task A_body_nested_deeper_than_16_levels_is_refused_and_16_are_read()
    {
        var tenant = await TenantWithCreditsAsync();
        // The object itself is the first level.
        static byte[] Nested(int arrays) =>
            Encoding.UTF8.GetBytes($$"""{"subject_ref":"user_1","extra":{{new string('[', arrays)}}{{new string(']', arrays)}}}""");

        var deep = await tenant.Runtime.SendAsync(Request(tenant, Named("access check"), Bytes(Nested(16), "application/json")));
        var allowed = await tenant.Runtime.SendAsync(Request(tenant, Named("access check"), Bytes(Nested(15), "application/json")));

        var detail = (await deep.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request")).GetProperty("detail").GetString();
        Assert.Contains("16", detail);
        Assert.True((await allowed.OkJsonAsync()).GetProperty("allowed").GetBoolean());
    }

    /// <summary>
    /// Generated malformed bodies, the same on every run (the seed is the route's place), each
    /// refused with a 400 problem (invalid_request, or the field's own code for a wrong type), nothing stored, and the app still answering.
    /// </summary>
    [Theory]
    [MemberData(nameof(RouteNames))]
    public async Task Generated_malformed_bodies_are_each_a_400_problem_with_its_code_that_changes_nothing(string routeName)
    {
        var route = Named(routeName);
        var tenant = await TenantWithCreditsAsync();
        var before = await StoredState.SnapshotAsync(app);
        var failures = new List<string>();

        var cases = Variants(route.Members, seed: 1600 + Array.IndexOf(Routes, route), count: 40);
        for (var i = 0; i < cases.Count; i++)
        {
            var response = await Client(tenant, route).SendAsync(Request(tenant, route, Bytes(cases[i].Body, "application/json"), i));
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.BadRequest
                || response.Content.Headers.ContentType?.MediaType != "application/problem+json"
                || !body.Contains("\"code\":\"invalid_", StringComparison.Ordinal))
                failures.Add($"{cases[i]} -> {(int)response.StatusCode} {body}");
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
        Assert.Equal(HttpStatusCode.OK, (await app.ApiClient().GetAsync("/healthz")).StatusCode);
        Assert.Equal(50, (await tenant.EntitlementsAsync(Subject)).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }
}

public sealed class RequestRuleTestsOnEmbedded(LicenzyApp app) : RequestRuleTests(app), IClassFixture<LicenzyApp>;

public sealed class RequestRuleTestsOnDapr(DaprLicenzyApp app) : RequestRuleTests(app), IClassFixture<DaprLicenzyApp>;

using System.Buffers.Text;
using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

/// <summary>
/// Entitlement tokens, checked by an implementation that is not Licenzy's: the npm package jose
/// verifies each token against the key set the app serves, at the test clock's time.
/// </summary>
public abstract class TokenTests(ILicenzyHost app)
{
    private DateTimeOffset Now => app.Clock.GetUtcNow();

    private static async Task<(JsonElement Response, string Token)> TokenAsync(TestTenant tenant, string subjectRef)
    {
        var response = await (await tenant.Runtime.PostAsJsonAsync("/v1/access/token", new { subject_ref = subjectRef })).OkJsonAsync();
        return (response, response.GetProperty("token").GetString()!);
    }

    private async Task<JsonNode> KeySetAsync()
    {
        var response = await app.ApiClient().GetAsync("/.well-known/jwks.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static IEnumerable<string> Kids(JsonNode keySet) => keySet["keys"]!.AsArray().Select(key => key!["kid"]!.GetValue<string>());

    [Fact]
    public async Task A_token_verifies_against_the_served_keys_and_says_what_the_check_says()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Subscription);
        var (response, token) = await TokenAsync(tenant, "user_1");
        var keySet = await KeySetAsync();

        var verified = await JoseVerifier.VerifyAsync(token, keySet, tenant.TenantId, Now);

        Assert.True(verified.Ok, verified.Code);
        Assert.Equal("EdDSA", verified.Header!["alg"]!.GetValue<string>());
        Assert.Contains(verified.Header["kid"]!.GetValue<string>(), Kids(keySet));
        Assert.All(keySet["keys"]!.AsArray(), key =>
        {
            Assert.Equal("OKP", key!["kty"]!.GetValue<string>());
            Assert.Equal("Ed25519", key["crv"]!.GetValue<string>());
            Assert.Null(key["d"]);
        });
        var claims = verified.Payload!;
        Assert.Equal("user_1", claims["sub"]!.GetValue<string>());
        Assert.Equal("test", claims["mode"]!.GetValue<string>());
        Assert.True(claims["allowed"]!.GetValue<bool>());
        Assert.Equal(["api_access", "export"], claims["features"]!.AsArray().Select(f => f!.GetValue<string>()));
        var entitlement = claims["ent"]!.AsArray().Single()!;
        Assert.Equal(TestTenant.Subscription, entitlement["product_code"]!.GetValue<string>());
        Assert.Equal("subscription", entitlement["kind"]!.GetValue<string>());
        Assert.True(entitlement["available"]!.GetValue<bool>());
        var version = (await tenant.EntitlementsAsync("user_1")).GetProperty("version").GetInt64();
        Assert.Equal(version, claims["ver"]!.GetValue<long>());
        Assert.Equal(version, response.GetProperty("version").GetInt64());
        // Nothing the clock changes within five minutes: the whole default lifetime.
        var issuedAt = claims["iat"]!.GetValue<long>();
        Assert.Equal(Now.ToUnixTimeSeconds(), issuedAt);
        Assert.Equal(issuedAt, claims["nbf"]!.GetValue<long>());
        Assert.Equal(issuedAt + 300, claims["exp"]!.GetValue<long>());
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(issuedAt + 300), response.GetProperty("expires_at").GetDateTimeOffset());
    }

    [Fact]
    public async Task Tampered_expired_and_other_tenants_tokens_are_refused_by_the_verifier()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var other = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Subscription);
        var (_, token) = await TokenAsync(tenant, "user_1");
        var (_, othersToken) = await TokenAsync(other, "user_1");
        var keySet = await KeySetAsync();

        // The same claims with allowed turned to false and the signature kept.
        var parts = token.Split('.');
        var claims = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])).Replace("\"allowed\":true", "\"allowed\":false", StringComparison.Ordinal);
        var tampered = $"{parts[0]}.{Base64Url.EncodeToString(Encoding.UTF8.GetBytes(claims))}.{parts[2]}";

        Assert.Equal("ERR_JWS_SIGNATURE_VERIFICATION_FAILED", (await JoseVerifier.VerifyAsync(tampered, keySet, tenant.TenantId, Now)).Code);
        Assert.Equal("ERR_JWT_EXPIRED", (await JoseVerifier.VerifyAsync(token, keySet, tenant.TenantId, Now.AddSeconds(300))).Code);
        Assert.Equal("ERR_JWT_CLAIM_VALIDATION_FAILED", (await JoseVerifier.VerifyAsync(token, keySet, other.TenantId, Now)).Code);
        Assert.Equal("ERR_JWT_CLAIM_VALIDATION_FAILED", (await JoseVerifier.VerifyAsync(othersToken, keySet, tenant.TenantId, Now)).Code);
        Assert.True((await JoseVerifier.VerifyAsync(token, keySet, tenant.TenantId, Now.AddSeconds(299))).Ok);
    }

    [Fact]
    public async Task A_token_ends_when_the_clock_alone_would_change_its_answer()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.DayPass);
        var expiresAt = (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0].GetProperty("expires_at").GetDateTimeOffset();
        app.Clock.SetUtcNow(expiresAt.AddSeconds(-100));

        var (response, token) = await TokenAsync(tenant, "user_1");

        var verified = await JoseVerifier.VerifyAsync(token, await KeySetAsync(), tenant.TenantId, Now);
        Assert.True(verified.Ok, verified.Code);
        Assert.Equal(expiresAt.ToUnixTimeSeconds(), verified.Payload!["exp"]!.GetValue<long>());
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(expiresAt.ToUnixTimeSeconds()), response.GetProperty("expires_at").GetDateTimeOffset());
        // Once the pass has ended, the token that said allowed is expired with it.
        Assert.Equal("ERR_JWT_EXPIRED", (await JoseVerifier.VerifyAsync(token, await KeySetAsync(), tenant.TenantId, expiresAt)).Code);
    }

    [Fact]
    public async Task A_subject_with_nothing_gets_a_token_that_allows_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app);

        var (response, token) = await TokenAsync(tenant, "nobody");

        var claims = (await JoseVerifier.VerifyAsync(token, await KeySetAsync(), tenant.TenantId, Now)).Payload!;
        Assert.False(claims["allowed"]!.GetValue<bool>());
        Assert.Empty(claims["features"]!.AsArray());
        Assert.Empty(claims["ent"]!.AsArray());
        Assert.Equal(0, claims["ver"]!.GetValue<long>());
        Assert.Equal(0, response.GetProperty("version").GetInt64());
    }

    [Theory]
    [InlineData("{\"subject_ref\": \"user_1\", \"mode\": \"test\"}", 400, "mode_not_allowed")]
    [InlineData("{\"subject_ref\": \"user/1\"}", 400, "invalid_subject_ref")]
    [InlineData("{}", 400, "invalid_subject_ref")]
    [InlineData("{\"subject_ref\": 7}", 400, "invalid_subject_ref")]
    [InlineData("not json", 400, "invalid_request")]
    [InlineData("", 400, "invalid_request")]
    [InlineData("[]", 400, "invalid_request")]
    public async Task Bad_token_requests_get_their_error_and_change_nothing(string body, int status, string code)
    {
        var tenant = await TestTenant.CreateAsync(app);
        var before = await StoredState.SnapshotAsync(app);

        var response = await tenant.Runtime.PostAsync("/v1/access/token", Problems.Json(body));

        await response.AssertProblemAsync((HttpStatusCode)status, code);
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
    }
}

public sealed class TokenTestsOnEmbedded(LicenzyApp app) : TokenTests(app), IClassFixture<LicenzyApp>;

public sealed class TokenTestsOnDapr(DaprLicenzyApp app) : TokenTests(app), IClassFixture<DaprLicenzyApp>;

public sealed class TokenTestsOnDaprReplicas(DaprCluster cluster) : TokenTests(cluster), IClassFixture<DaprCluster>;

/// <summary>
/// Key rotation, on an app of its own per test (the key ring is the deployment's, and these tests
/// move the clock by a month), on each binding.
/// </summary>
public sealed class TokenRotationTests
{
    private static async Task<LicenzyApp> StartAsync(bool onDapr)
    {
        LicenzyApp app = onDapr ? new DaprLicenzyApp() : new LicenzyApp();
        await ((IAsyncLifetime)app).InitializeAsync();
        return app;
    }

    /// <summary>Stops an app as its fixture would (its Stripe stand-in and sidecar too), and removes a kept data folder.</summary>
    private sealed class Stopped(LicenzyApp app, string? alsoDelete = null) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await ((IAsyncLifetime)app).DisposeAsync();
            if (alsoDelete is not null && Directory.Exists(alsoDelete)) Directory.Delete(alsoDelete, recursive: true);
        }
    }

    private static async Task<string> TokenAsync(TestTenant tenant) =>
        (await (await tenant.Runtime.PostAsJsonAsync("/v1/access/token", new { subject_ref = "user_1" })).OkJsonAsync()).GetProperty("token").GetString()!;

    private static async Task<JsonNode> KeySetAsync(LicenzyApp app) =>
        JsonNode.Parse(await app.ApiClient().GetStringAsync("/.well-known/jwks.json"))!;

    private static IEnumerable<string> Kids(JsonNode keySet) => keySet["keys"]!.AsArray().Select(key => key!["kid"]!.GetValue<string>());

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Signing_keys_rotate_and_a_retired_key_goes_once_its_tokens_have_expired(bool onDapr)
    {
        var app = await StartAsync(onDapr);
        await using var _ = new Stopped(app);
        var tenant = await TestTenant.CreateAsync(app);
        var first = await TokenAsync(tenant);
        var firstKid = JoseVerifier.Kid(first);
        var issuedFirstAt = app.Clock.GetUtcNow();
        // The key that signs next is listed before it signs.
        var before = Kids(await KeySetAsync(app)).ToList();
        Assert.Equal(2, before.Count);
        Assert.Contains(firstKid, before);

        app.Clock.Advance(TimeSpan.FromDays(31));
        var second = await TokenAsync(tenant);
        var secondKid = JoseVerifier.Kid(second);

        Assert.NotEqual(firstKid, secondKid);
        Assert.Contains(secondKid, before);
        var after = await KeySetAsync(app);
        Assert.True((await JoseVerifier.VerifyAsync(second, after, tenant.TenantId, app.Clock.GetUtcNow())).Ok);
        // The first key's last tokens expired long ago: it is gone, and its token no longer verifies with this set.
        Assert.DoesNotContain(firstKid, Kids(after));
        Assert.Equal("ERR_JWKS_NO_MATCHING_KEY", (await JoseVerifier.VerifyAsync(first, after, tenant.TenantId, issuedFirstAt)).Code);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_key_retired_a_moment_ago_is_still_listed_for_the_tokens_it_signed(bool onDapr)
    {
        var app = await StartAsync(onDapr);
        await using var _ = new Stopped(app);
        var tenant = await TestTenant.CreateAsync(app);
        var firstKid = JoseVerifier.Kid(await TokenAsync(tenant));
        // Just before the next key takes over, 30 days (Licenzy:Tokens:RotationDays) after the first was made.
        app.Clock.Advance(TimeSpan.FromDays(30) - TimeSpan.FromMinutes(2));
        var last = await TokenAsync(tenant);
        var lastIssuedAt = app.Clock.GetUtcNow();
        Assert.Equal(firstKid, JoseVerifier.Kid(last));

        app.Clock.Advance(TimeSpan.FromMinutes(3));
        var next = await TokenAsync(tenant);

        var keySet = await KeySetAsync(app);
        Assert.NotEqual(firstKid, JoseVerifier.Kid(next));
        Assert.Contains(firstKid, Kids(keySet));
        Assert.Equal(3, Kids(keySet).Count());
        Assert.True((await JoseVerifier.VerifyAsync(last, keySet, tenant.TenantId, lastIssuedAt.AddSeconds(60))).Ok);
    }

    [Fact]
    public async Task Replicas_issuing_their_first_tokens_at_once_make_one_ring()
    {
        var cluster = new DaprCluster();
        await cluster.InitializeAsync();
        try
        {
            var tenant = await TestTenant.CreateAsync(cluster);

            // The runtime client sends each request to the next Api replica: both make the ring at once.
            var tokens = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
                (await (await tenant.Runtime.PostAsJsonAsync("/v1/access/token", new { subject_ref = $"user_{i}" })).OkJsonAsync())
                    .GetProperty("token").GetString()!));

            var keySet = JsonNode.Parse(await cluster.ApiClient().GetStringAsync("/.well-known/jwks.json"))!;
            Assert.Equal(2, Kids(keySet).Count());
            Assert.Single(tokens.Select(JoseVerifier.Kid).Distinct());
            foreach (var token in tokens) Assert.True((await JoseVerifier.VerifyAsync(token, keySet, tenant.TenantId, cluster.Clock.GetUtcNow())).Ok);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_signing_key_outlives_a_restart()
    {
        var first = new LicenzyApp { KeepData = true };
        await ((IAsyncLifetime)first).InitializeAsync();
        var tenant = await TestTenant.CreateAsync(first);
        var token = await TokenAsync(tenant);
        await ((IAsyncLifetime)first).DisposeAsync();

        var second = new LicenzyApp();
        second.Settings["Licenzy:DataPath"] = first.DataPath;
        await ((IAsyncLifetime)second).InitializeAsync();
        await using var _ = new Stopped(second, alsoDelete: first.DataPath);
        var keySet = await KeySetAsync(second);

        Assert.Contains(JoseVerifier.Kid(token), Kids(keySet));
        Assert.True((await JoseVerifier.VerifyAsync(token, keySet, tenant.TenantId, second.Clock.GetUtcNow())).Ok);
        Assert.Equal(2, Kids(keySet).Count());
    }
}

/// <summary>Verifies tokens with the jose npm package (node/verify-token.mjs): not Licenzy's code.</summary>
internal static class JoseVerifier
{
    public sealed record Verdict(bool Ok, string? Code, JsonObject? Header, JsonObject? Payload);

    public static async Task<Verdict> VerifyAsync(string token, JsonNode keySet, string audience, DateTimeOffset now, string issuer = "licenzy")
    {
        var directory = typeof(JoseVerifier).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "WebhookNodeDirectory").Value!;
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "jose")))
            throw new InvalidOperationException($"The jose npm package is not installed in {directory}. Install Node.js 20+ with npm and rebuild, or run `npm ci` there.");
        var input = new JsonArray(new JsonObject
        {
            ["token"] = token, ["jwks"] = keySet.DeepClone(), ["issuer"] = issuer, ["audience"] = audience, ["now"] = now.ToUnixTimeSeconds(),
        });
        var output = await NodeScript.RunAsync(directory, "verify-token.mjs", input.ToJsonString(), "the token tests verify tokens with the jose npm package.");
        var verdict = JsonNode.Parse(output)!.AsArray().Single()!;
        return new Verdict(verdict["ok"]!.GetValue<bool>(), verdict["code"]?.GetValue<string>(), verdict["header"]?.AsObject(), verdict["payload"]?.AsObject());
    }

    /// <summary>The kid in a token's header (read, not verified).</summary>
    public static string Kid(string token) =>
        JsonNode.Parse(Base64Url.DecodeFromChars(token.Split('.')[0]))!["kid"]!.GetValue<string>();
}

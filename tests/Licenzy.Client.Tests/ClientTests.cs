using System.Net;
using Licenzy.Client;
using Licenzy.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Client.Tests;

/// <summary>
/// The client library against the real standalone app (in memory, on its embedded components):
/// every call goes through the registration a backend uses, the factory's HttpClient with the
/// standard resilience handler, down to the app's server.
/// </summary>
public sealed class ClientTests(LicenzyApp app) : IClassFixture<LicenzyApp>
{
    /// <summary>Sits between the client and the app: counts calls, fails them while told to, or loses answers.</summary>
    private sealed class Wire : DelegatingHandler
    {
        private int _calls;
        public int Calls => Volatile.Read(ref _calls);
        public bool Down { get; set; }
        public int LoseAnswers { get; set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            Interlocked.Increment(ref _calls);
            if (Down) throw new HttpRequestException("Licenzy is unreachable (test)");
            var response = await base.SendAsync(request, ct);
            if (LoseAnswers > 0)
            {
                LoseAnswers--;
                response.Dispose();
                throw new HttpRequestException("the answer was lost on the way back (test)");
            }
            return response;
        }
    }

    private (LicenzyClient Client, Wire Wire) ClientFor(TestTenant tenant)
    {
        var wire = new Wire();
        var services = new ServiceCollection();
        services.AddLicenzyClient(options => { })
            .ConfigurePrimaryHttpMessageHandler(() => app.Server.CreateHandler())
            // Innermost, under the resilience handler: what it sees is what the network did.
            .AddHttpMessageHandler(() => wire);
        return (Client(services, tenant.ApiKey, tenant.TenantId), wire);
    }

    [Fact]
    public async Task Typed_calls_read_what_the_app_answers()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Subscription);
        var (client, _) = ClientFor(tenant);

        var check = await client.CheckAccessAsync("user_1", "export");
        var customer = await client.GetCustomerAccessAsync("user_1");
        var entitlements = await client.GetEntitlementsAsync("user_1");
        var token = await client.GetAccessTokenAsync("user_1");

        Assert.True(check.Allowed);
        Assert.Equal("export", check.Feature);
        Assert.True(customer.HasAccess);
        Assert.Equal(TestTenant.Subscription, Assert.Single(entitlements.Entitlements).ProductCode);
        Assert.Equal(entitlements.Version, token.Version);
        Assert.StartsWith("ey", token.Token, StringComparison.Ordinal);
        Assert.Empty(await client.ListLicensesAsync("user_1"));
    }

    [Fact]
    public async Task A_consume_whose_answer_is_lost_is_retried_with_the_same_key_and_spends_once()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        var (client, wire) = ClientFor(tenant);
        wire.LoseAnswers = 1;

        var consumed = await client.ConsumeAsync("user_1", 5);

        // The first attempt spent; its answer was lost; the retry carried the same key and was answered as a replay.
        Assert.Equal(2, wire.Calls);
        Assert.True(consumed.Replayed);
        Assert.Equal(45, consumed.UsageRemaining);
        Assert.Equal(45, Assert.Single((await client.GetEntitlementsAsync("user_1")).Entitlements).UsageRemaining);
    }

    [Fact]
    public async Task Errors_arrive_as_exceptions_carrying_their_code()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        var (client, _) = ClientFor(tenant);

        var short_ = await Assert.ThrowsAsync<LicenzyApiException>(() => client.ConsumeAsync("user_1", 51));
        Assert.Equal(HttpStatusCode.Conflict, short_.Status);
        Assert.Equal("insufficient_usage", short_.Code);
        Assert.Equal(50, short_.UsageRemaining);
        Assert.Equal("invalid_subject_ref", (await Assert.ThrowsAsync<LicenzyApiException>(() => client.CheckAccessAsync("user/1"))).Code);
        Assert.Equal("license_not_found", (await Assert.ThrowsAsync<LicenzyApiException>(() => client.GetLicenseAsync("lic_none"))).Code);
        Assert.Equal("unknown_product", (await Assert.ThrowsAsync<LicenzyApiException>(() => client.CreateCheckoutSessionAsync("user_1", "NOPE"))).Code);
    }

    [Fact]
    public async Task IsAllowed_answers_from_a_verified_token_without_calls_until_it_needs_renewing()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Subscription);
        var (client, wire) = ClientFor(tenant);

        Assert.True(await client.IsAllowedAsync("user_1", "export"));
        var afterFirst = wire.Calls; // the token and the key set
        Assert.Equal(2, afterFirst);
        for (var i = 0; i < 1_000; i++)
        {
            Assert.True(await client.IsAllowedAsync("user_1", "export"));
            Assert.False(await client.IsAllowedAsync("user_1", "not_a_feature"));
        }
        Assert.Equal(afterFirst, wire.Calls);

        // 30 s before the 300 s token expires it is renewed in the background; the held one answers meanwhile.
        app.Clock.Advance(TimeSpan.FromSeconds(271));
        Assert.True(await client.IsAllowedAsync("user_1", "export"));
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(wire.Calls == afterFirst + 1), TimeSpan.FromSeconds(30), every: TimeSpan.FromMilliseconds(10)),
            "the token was not renewed in the background");
    }

    [Fact]
    public async Task When_Licenzy_is_unreachable_a_valid_token_answers_until_it_expires_then_the_answer_is_no()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Subscription);
        var (client, wire) = ClientFor(tenant);
        Assert.True(await client.IsAllowedAsync("user_1"));

        wire.Down = true;
        app.Clock.Advance(TimeSpan.FromSeconds(280));
        Assert.True(await client.IsAllowedAsync("user_1"));

        app.Clock.Advance(TimeSpan.FromSeconds(20));
        Assert.False(await client.IsAllowedAsync("user_1"));
        Assert.False(await client.IsAllowedAsync("someone_never_seen"));

        wire.Down = false;
        Assert.True(await client.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task A_token_for_another_tenant_is_not_trusted()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var other = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Subscription);
        var wire = new Wire();
        var services = new ServiceCollection();
        services.AddLicenzyClient(options => { })
            .ConfigurePrimaryHttpMessageHandler(() => app.Server.CreateHandler())
            .AddHttpMessageHandler(() => wire);
        // The key of one tenant, the audience of another: every token fails the audience check.
        var client = Client(services, tenant.ApiKey, other.TenantId);

        Assert.True((await client.CheckAccessAsync("user_1")).Allowed);
        Assert.False(await client.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task A_token_passed_on_verifies_once_the_key_set_is_held_and_a_forged_misdirected_or_expired_one_does_not()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Subscription);
        var (client, wire) = ClientFor(tenant);
        var issued = await client.GetAccessTokenAsync("user_1");

        var verified = await client.VerifyTokenAsync(issued.Token, "user_1");
        Assert.True(verified.Allows("export"));
        Assert.False(verified.Allows("not_a_feature"));
        var calls = wire.Calls; // the token and the key set
        Assert.Equal(2, calls);
        await client.VerifyTokenAsync(issued.Token, "user_1");
        Assert.Equal(calls, wire.Calls);

        var parts = issued.Token.Split('.');
        var forged = $"{parts[0]}.{parts[1]}.{(parts[2][0] == 'A' ? 'B' : 'A')}{parts[2][1..]}";
        await Assert.ThrowsAsync<TokenVerificationException>(async () => await client.VerifyTokenAsync(forged, "user_1"));
        await Assert.ThrowsAsync<TokenVerificationException>(async () => await client.VerifyTokenAsync(issued.Token, "user_2"));
        app.Clock.Advance(TimeSpan.FromSeconds(300));
        await Assert.ThrowsAsync<TokenVerificationException>(async () => await client.VerifyTokenAsync(issued.Token, "user_1"));
    }

    /// <summary>
    /// The client on the app's fake clock (tokens are checked against it), while the resilience
    /// handler keeps real time for its retry delays and timeouts.
    /// </summary>
    private LicenzyClient Client(ServiceCollection services, string apiKey, string tenantId) =>
        new(services.BuildServiceProvider().GetRequiredService<IHttpClientFactory>(),
            Microsoft.Extensions.Options.Options.Create(new LicenzyClientOptions
            {
                BaseAddress = new Uri("http://localhost"), ApiKey = apiKey, TenantId = tenantId,
            }),
            app.Clock);
}

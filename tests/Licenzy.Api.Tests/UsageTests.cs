using System.Net;
using System.Net.Http.Json;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

public abstract class UsageTests(ILicenzyHost app)
{
    protected static HttpRequestMessage Consume(string subjectRef, object units, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/usage/consume") { Content = JsonContent.Create(new { subject_ref = subjectRef, units }) };
        if (key is not null) request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    [Fact]
    public async Task Consuming_spends_units_and_grows_the_version()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        var body = await (await tenant.Runtime.SendAsync(Consume("user_1", 20, "c1"))).OkJsonAsync();

        Assert.True(body.GetProperty("ok").GetBoolean());
        Assert.Equal(20, body.GetProperty("consumed").GetInt64());
        Assert.Equal(30, body.GetProperty("usage_remaining").GetInt64());
        var entitlements = await tenant.EntitlementsAsync("user_1");
        Assert.Equal(2, entitlements.GetProperty("version").GetInt64());
        Assert.Equal(50, entitlements.GetProperty("entitlements")[0].GetProperty("usage_granted").GetInt64());
        Assert.Equal(30, entitlements.GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Fact]
    public async Task Asking_for_more_than_is_left_spends_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        await tenant.Runtime.SendAsync(Consume("user_1", 10, "c1"));

        var response = await tenant.Runtime.SendAsync(Consume("user_1", 100, "c2"));

        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict, "insufficient_usage");
        Assert.Equal(40, problem.GetProperty("usage_remaining").GetInt64());
        Assert.Equal("100 units requested, 40 remaining", problem.GetProperty("detail").GetString());
        var entitlements = await tenant.EntitlementsAsync("user_1");
        Assert.Equal(2, entitlements.GetProperty("version").GetInt64());
        Assert.Equal(40, entitlements.GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Fact]
    public async Task Consumes_and_billing_events_interleaved_each_start_from_the_last_change()
    {
        // Where the actor keeps its document between turns, every event and consume must still
        // see the one before it: a purchase, and an event that changes nothing (a partial refund).
        var tenant = await TestTenant.CreateAsync(app);
        var first = await tenant.BuyAsync("user_1", TestTenant.Credits);
        async Task<long> RemainingAfter(long units, string key) =>
            (await (await tenant.Runtime.SendAsync(Consume("user_1", units, key))).OkJsonAsync()).GetProperty("usage_remaining").GetInt64();

        Assert.Equal(40, await RemainingAfter(10, "k1"));
        await tenant.DeliverAsync(StripeEvents.ChargeRefunded(tenant.NextEventId(), app.Clock.GetUtcNow(), "pi_" + first.Id, amountRefunded: 500));
        Assert.Equal(35, await RemainingAfter(5, "k2"));
        var second = StripeEvents.CheckoutSession("checkout.session.completed", tenant.NextEventId(), app.Clock.GetUtcNow(),
            await tenant.StartCheckoutAsync("user_1", TestTenant.Credits), "paid", livemode: false);
        await tenant.DeliverAsync(second);
        Assert.Equal(25, await RemainingAfter(60, "k3"));
        Assert.Equal(20, await RemainingAfter(5, "k4"));

        var replay = await tenant.Runtime.SendAsync(Consume("user_1", 60, "k3"));
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(25, (await replay.OkJsonAsync()).GetProperty("usage_remaining").GetInt64());
        await (await tenant.Runtime.SendAsync(Consume("user_1", 6, "k2"))).AssertProblemAsync(HttpStatusCode.Conflict, "idempotency_key_reused");

        Assert.Equal(0, await RemainingAfter(20, "k5"));
        var empty = await tenant.Runtime.SendAsync(Consume("user_1", 1, "k6"));
        Assert.Equal(0, (await empty.AssertProblemAsync(HttpStatusCode.Conflict, "insufficient_usage")).GetProperty("usage_remaining").GetInt64());

        var entitlements = await tenant.EntitlementsAsync("user_1");
        Assert.Equal(0, entitlements.GetProperty("entitlements").EnumerateArray().Sum(e => e.GetProperty("usage_remaining").GetInt64()));
    }

    [Fact]
    public async Task A_retry_with_the_same_key_replays_without_spending_again()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        var first = await tenant.Runtime.SendAsync(Consume("user_1", 5, "same"));
        var second = await tenant.Runtime.SendAsync(Consume("user_1", 5, "same"));

        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        var entitlements = await tenant.EntitlementsAsync("user_1");
        Assert.Equal(45, entitlements.GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
        Assert.Equal(2, entitlements.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task A_key_is_still_honoured_just_before_24_hours()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        await tenant.Runtime.SendAsync(Consume("user_1", 5, "day-old"));
        app.Clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));

        var retry = await tenant.Runtime.SendAsync(Consume("user_1", 5, "day-old"));

        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(45, (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Fact]
    public async Task A_key_is_forgotten_by_the_store_a_day_after_it_stops_answering_and_may_then_be_used_again()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        var now = app.Clock.GetUtcNow();
        Assert.Equal(HttpStatusCode.OK, (await tenant.Runtime.SendAsync(Consume("user_1", 5, "two-days"))).StatusCode);

        Assert.Equal(now.AddHours(48), await StoredState.IdempotencyExpiryAsync(tenant, "usage", "two-days"));

        app.Clock.Advance(TimeSpan.FromHours(48));
        var reused = await tenant.Runtime.SendAsync(Consume("user_1", 6, "two-days"));

        Assert.Equal(HttpStatusCode.OK, reused.StatusCode);
        Assert.False(reused.Headers.Contains("Idempotent-Replayed") && reused.Headers.GetValues("Idempotent-Replayed").Single() == "true");
        Assert.Equal(39, (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_refused_and_spends_nothing()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        await tenant.Runtime.SendAsync(Consume("user_1", 5, "k"));

        var otherUnits = await tenant.Runtime.SendAsync(Consume("user_1", 6, "k"));
        var otherSubject = await tenant.Runtime.SendAsync(Consume("user_2", 5, "k"));

        await otherUnits.AssertProblemAsync(HttpStatusCode.Conflict, "idempotency_key_reused");
        await otherSubject.AssertProblemAsync(HttpStatusCode.Conflict, "idempotency_key_reused");
        Assert.Equal(45, (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1.5)]
    [InlineData("10")]
    [InlineData(1_000_000_001L)]
    [InlineData(null)]
    public async Task Units_must_be_a_whole_number_in_range(object? units)
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        var response = await tenant.Runtime.SendAsync(Consume("user_1", units!, "k"));

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_units");
        Assert.Equal(50, (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Theory]
    [InlineData("{\"subject_ref\": \"user_1\", \"units\": 1, \"mode\": \"live\"}", "mode_not_allowed")]
    [InlineData("{\"subject_ref\": \"user one\", \"units\": 1}", "invalid_subject_ref")]
    [InlineData("{\"units\": 1}", "invalid_subject_ref")]
    [InlineData("{\"subject_ref\": \"user_1\"}", "invalid_units")]
    [InlineData("{\"subject_ref\": \"user_1\", \"units\": 1", "invalid_request")]
    public async Task Bad_consume_bodies_get_their_error(string body, string code)
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/usage/consume") { Content = Problems.Json(body) };
        request.Headers.Add("Idempotency-Key", "k");

        var response = await tenant.Runtime.SendAsync(request);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest, code);
        Assert.Equal(50, (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Fact]
    public async Task An_idempotency_key_is_required()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        var missing = await tenant.Runtime.SendAsync(Consume("user_1", 1, key: null));
        var tooLong = await tenant.Runtime.SendAsync(Consume("user_1", 1, key: new string('k', 256)));

        await missing.AssertProblemAsync(HttpStatusCode.BadRequest, "idempotency_key_required");
        await tooLong.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_idempotency_key");
        Assert.Equal(50, (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Fact]
    public async Task Two_hundred_parallel_consumes_spend_exactly_what_there_is()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        var responses = await Task.WhenAll(Enumerable.Range(0, 200)
            .Select(i => tenant.Runtime.SendAsync(Consume("user_1", 1, $"parallel-{i}"))));

        Assert.Equal(50, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(150, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        foreach (var rejected in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
            await rejected.AssertProblemAsync(HttpStatusCode.Conflict, "insufficient_usage");
        var entitlements = await tenant.EntitlementsAsync("user_1");
        Assert.Equal(0, entitlements.GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
        Assert.Equal(1 + 50, entitlements.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task Parallel_retries_of_one_key_spend_once()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => tenant.Runtime.SendAsync(Consume("user_1", 3, "one-key"))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(responses, r => !r.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(47, (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }
}

public sealed class UsageTestsOnEmbedded(LicenzyApp app) : UsageTests(app), IClassFixture<LicenzyApp>;

public sealed class UsageTestsOnDapr(DaprLicenzyApp app) : UsageTests(app), IClassFixture<DaprLicenzyApp>
{
    [Fact]
    public async Task When_the_store_fails_every_waiting_consume_is_answered_and_nothing_is_spent()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        HttpResponseMessage[] responses;
        app.Sidecar!.FailTransactions = true;
        try
        {
            // Parallel, so that most of them wait for a turn that fails; a bound, in case one is never answered.
            responses = await Task.WhenAll(Enumerable.Range(0, 30)
                    .Select(i => tenant.Runtime.SendAsync(Consume("user_1", 1, $"down-{i}"))))
                .WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            app.Sidecar.FailTransactions = false;
        }

        foreach (var response in responses) await response.AssertProblemAsync(HttpStatusCode.InternalServerError, "internal_error");
        Assert.Equal(50, (await tenant.EntitlementsAsync("user_1")).GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
        // Nothing was recorded under the keys: a retry is a first attempt, and spends once.
        var retry = await (await tenant.Runtime.SendAsync(Consume("user_1", 1, "down-0"))).OkJsonAsync();
        Assert.Equal(49, retry.GetProperty("usage_remaining").GetInt64());
    }
}

/// <summary>The same behaviour with two Api and two Ingest replicas behind the sidecar.</summary>
public sealed class UsageTestsOnDaprReplicas(DaprCluster cluster) : UsageTests(cluster), IClassFixture<DaprCluster>;

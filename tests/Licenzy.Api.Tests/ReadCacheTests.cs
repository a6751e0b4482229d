using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

/// <summary>
/// Reads are served from memory when they can be, and a change is never hidden by that: every
/// read after a change has been applied (an HTTP answer, a delivered webhook) shows it.
/// </summary>
public abstract class ReadCacheTests(LicenzyApp app)
{
    private static HttpRequestMessage Consume(string subjectRef, long units, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/usage/consume") { Content = JsonContent.Create(new { subject_ref = subjectRef, units }) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    /// <summary>Runs <paramref name="writes"/> while reading the version over and over; a version that goes back fails the test.</summary>
    private static async Task<T> WhileWatchingVersionsAsync<T>(Func<Task<long>> readVersion, Func<Task<T>> writes)
    {
        using var done = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            long seen = 0;
            while (!done.IsCancellationRequested)
            {
                var version = await readVersion();
                Assert.True(version >= seen, $"version went back from {seen} to {version}");
                seen = version;
            }
        });
        var result = await writes();
        await done.CancelAsync();
        await reader;
        return result;
    }

    private static async Task<JsonElement> CustomerAccessAsync(TestTenant tenant, string subjectRef) =>
        await tenant.Runtime.GetFromJsonAsync<JsonElement>($"/v1/customer/access/{subjectRef}");

    [Fact]
    public async Task A_subject_read_before_it_bought_anything_shows_the_purchase_once_delivered()
    {
        var tenant = await TestTenant.CreateAsync(app);
        Assert.False(await tenant.IsAllowedAsync("user_1"));
        Assert.Equal("none", (await CustomerAccessAsync(tenant, "user_1")).GetProperty("status").GetString());

        await tenant.BuyAsync("user_1", TestTenant.Subscription);

        Assert.True(await tenant.IsAllowedAsync("user_1"));
        Assert.Equal("active", (await CustomerAccessAsync(tenant, "user_1")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Every_consume_is_visible_in_the_next_read_on_every_view()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        Assert.True(await tenant.IsAllowedAsync("user_1"));

        for (var spent = 10; spent <= 50; spent += 10)
        {
            var consumed = await tenant.Runtime.SendAsync(Consume("user_1", 10, $"step-{spent}"));
            Assert.Equal(HttpStatusCode.OK, consumed.StatusCode);

            var entitlements = await tenant.EntitlementsAsync("user_1");
            Assert.Equal(1 + spent / 10, entitlements.GetProperty("version").GetInt64());
            Assert.Equal(50 - spent, entitlements.GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
            var customer = await CustomerAccessAsync(tenant, "user_1");
            Assert.Equal(1 + spent / 10, customer.GetProperty("version").GetInt64());
            Assert.Equal(50 - spent, customer.GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
        }

        // The last consume used the pack up: access ends with it, not on some later read.
        Assert.False(await tenant.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task Reads_racing_consumes_never_go_back_and_end_on_the_last_change()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        var consumes = await WhileWatchingVersionsAsync(
            async () => (await tenant.EntitlementsAsync("user_1")).GetProperty("version").GetInt64(),
            () => Task.WhenAll(Enumerable.Range(0, 30).Select(i => tenant.Runtime.SendAsync(Consume("user_1", 1, $"race-{i}")))));

        Assert.All(consumes, c => Assert.Equal(HttpStatusCode.OK, c.StatusCode));
        var entitlements = await tenant.EntitlementsAsync("user_1");
        Assert.Equal(1 + 30, entitlements.GetProperty("version").GetInt64());
        Assert.Equal(20, entitlements.GetProperty("entitlements")[0].GetProperty("usage_remaining").GetInt64());
    }

    [Fact]
    public async Task Access_checks_racing_consumes_never_go_back_and_end_on_the_last_unit()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        var consumes = await WhileWatchingVersionsAsync(
            async () =>
            {
                var response = await tenant.Runtime.PostAsJsonAsync("/v1/access/check", new { subject_ref = "user_1" });
                return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt64();
            },
            () => Task.WhenAll(Enumerable.Range(0, 60).Select(i => tenant.Runtime.SendAsync(Consume("user_1", 1, $"race-{i}")))));

        Assert.Equal(50, consumes.Count(c => c.StatusCode == HttpStatusCode.OK));
        Assert.Equal(10, consumes.Count(c => c.StatusCode == HttpStatusCode.Conflict));
        var check = await tenant.Runtime.PostAsJsonAsync("/v1/access/check", new { subject_ref = "user_1" });
        var answer = await check.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(answer.GetProperty("allowed").GetBoolean());
        Assert.Equal(1 + 50, answer.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task A_second_purchase_delivered_after_reads_shows_on_the_next_read()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.DayPass);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
        Assert.True(await tenant.IsAllowedAsync("user_1", "export"));
        var version = (await tenant.EntitlementsAsync("user_1")).GetProperty("version").GetInt64();

        await tenant.BuyAsync("user_1", TestTenant.DayPass);

        Assert.Equal(version + 1, (await tenant.EntitlementsAsync("user_1")).GetProperty("version").GetInt64());
    }
}

public sealed class ReadCacheTestsOnEmbedded(LicenzyApp app) : ReadCacheTests(app), IClassFixture<LicenzyApp>;

public sealed class ReadCacheTestsOnDapr(DaprLicenzyApp app) : ReadCacheTests(app), IClassFixture<DaprLicenzyApp>;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

/// <summary>
/// A key's last use is written at most once a minute (per process), never on every call: the
/// runtime API is hot. So the listed time is the use that began the key's last minute of use, at
/// most a minute before its true last use (docs/decisions/020-api-key-last-use.md).
/// </summary>
public abstract class ApiKeyLastUseTests(ILicenzyHost app)
{
    private async Task<DateTimeOffset?> LastUsedAtAsync(TestTenant tenant)
    {
        var keys = (await (await tenant.Admin.GetAsync($"{tenant.ModePath}/api-keys")).OkJsonAsync()).GetProperty("api_keys");
        var used = keys.EnumerateArray().Single().GetProperty("last_used_at");
        return used.ValueKind == JsonValueKind.Null ? null : used.GetDateTimeOffset();
    }

    private static async Task CheckAsync(TestTenant tenant) =>
        Assert.Equal(HttpStatusCode.OK, (await tenant.Runtime.PostAsJsonAsync("/v1/access/check", new { subject_ref = "u1" })).StatusCode);

    [Fact]
    public async Task Uses_within_a_minute_of_the_written_one_write_nothing_and_the_first_after_it_is_written()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var first = app.Clock.GetUtcNow();
        await CheckAsync(tenant);
        Assert.Equal(first, await LastUsedAtAsync(tenant));

        var before = await StoredState.SnapshotAsync(app);
        for (var second = 1; second < 60; second += 4)
        {
            app.Clock.SetUtcNow(first.AddSeconds(second));
            await CheckAsync(tenant);
        }
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
        Assert.Equal(first, await LastUsedAtAsync(tenant));

        app.Clock.SetUtcNow(first.AddSeconds(61));
        await CheckAsync(tenant);
        Assert.Equal(first.AddSeconds(61), await LastUsedAtAsync(tenant));
    }

    [Fact]
    public async Task A_refused_request_is_not_a_use()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var before = await StoredState.SnapshotAsync(app);

        var refused = await tenant.Runtime.PostAsync("/v1/access/check", Problems.Json("{\"subject_ref\": \"no spaces allowed\"}"));

        await refused.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_subject_ref");
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
        Assert.Null(await LastUsedAtAsync(tenant));
    }

    [Fact]
    public async Task A_key_used_by_many_requests_at_once_answers_them_all_and_records_the_use()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var now = app.Clock.GetUtcNow();

        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => CheckAsync(tenant)));

        Assert.Equal(now, await LastUsedAtAsync(tenant));
    }
}

public sealed class ApiKeyLastUseTestsOnEmbedded(LicenzyApp app) : ApiKeyLastUseTests(app), IClassFixture<LicenzyApp>;

public sealed class ApiKeyLastUseTestsOnDapr(DaprLicenzyApp app) : ApiKeyLastUseTests(app), IClassFixture<DaprLicenzyApp>;

using System.Net.Http.Json;
using Licenzy.Api.Subjects;
using Licenzy.Domain;
using Licenzy.Domain.Subjects;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Licenzy.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Api.Tests;

/// <summary>
/// The subject actor's kept copy (embedded binding): a write made from a copy that is no longer
/// the stored document is refused by its ETag, and the turn reads the store again.
/// </summary>
public sealed class SubjectMemoryTests(LicenzyApp app) : IClassFixture<LicenzyApp>
{
    private static HttpRequestMessage Consume(string subjectRef, long units, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/usage/consume") { Content = JsonContent.Create(new { subject_ref = subjectRef, units }) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    [Fact]
    public async Task A_document_changed_behind_the_actors_copy_is_read_again_before_spending()
    {
        Assert.True(app.Services.GetRequiredService<SubjectMemory>().IsOn);
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        var first = await (await tenant.Runtime.SendAsync(Consume("user_1", 10, "k1"))).OkJsonAsync();
        Assert.Equal(40, first.GetProperty("usage_remaining").GetInt64());

        // Another writer (as a second process on the same file would be) spends 30 more.
        Assert.True(Modes.TryParse(tenant.Mode, out var mode));
        var store = app.Services.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore);
        var key = StateKeys.Subject(tenant.TenantId, mode, "user_1");
        var stored = (await store.GetAsync<SubjectState>(key))!;
        stored.Value.Entitlements.Single().UsageConsumed += 30;
        Assert.True(await store.TrySaveAsync(key, stored.Value, stored.ETag));

        var second = await (await tenant.Runtime.SendAsync(Consume("user_1", 5, "k2"))).OkJsonAsync();

        Assert.Equal(5, second.GetProperty("usage_remaining").GetInt64());
        Assert.Equal(45, (await store.GetAsync<SubjectState>(key))!.Value.Entitlements.Single().UsageConsumed);
    }
}

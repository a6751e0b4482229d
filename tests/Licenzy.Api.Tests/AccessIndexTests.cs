using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

/// <summary>
/// With embedded components, access checks are answered from an in-memory index of every
/// subject, loaded from the store at start and kept current by every write. These tests restart
/// the app on the same data folder: the answers after the load must be the answers before it,
/// and time and later writes must move them on as before.
/// </summary>
public sealed class AccessIndexTests : IAsyncLifetime
{
    private readonly List<LicenzyApp> _apps = [];
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));

    private static readonly (string Subject, string? Feature)[] Questions =
    [
        ("user_sub", null), ("user_sub", "export"), ("user_sub", "admin_panel"),
        ("user_pass", null), ("user_pass", "export"), ("user_pass", "api_access"),
        ("user_spent", null), ("user_left", null), ("user_left", "export"),
        ("user_both", "api_access"), ("user_both", null), ("user_none", null),
    ];

    [Fact]
    public async Task Every_answer_is_the_same_after_a_restart_and_moves_on_with_time_and_writes()
    {
        var first = await StartAsync();
        var tenant = await TestTenant.CreateAsync(first);
        await BuyEverythingAsync(tenant);
        var before = await AskAllAsync(tenant.Runtime);
        Assert.Equal(
            "user_sub:True@1 user_sub/export:True@1 user_sub/admin_panel:False@1 user_pass:True@1 user_pass/export:True@1 user_pass/api_access:False@1 " +
            "user_spent:False@2 user_left:True@2 user_left/export:False@2 user_both/api_access:True@2 user_both:True@2 user_none:False@0",
            before);
        var now = first.Clock.GetUtcNow();
        await StopAsync(first);

        var second = await StartAsync(now);
        var runtime = second.RuntimeClient(tenant.ApiKey);
        Assert.Equal(before, await AskAllAsync(runtime));

        // The day pass ends a day after it was bought; the subscription runs on.
        second.Clock.Advance(TimeSpan.FromDays(1));
        Assert.False(await IsAllowedAsync(runtime, "user_pass"));
        Assert.True(await IsAllowedAsync(runtime, "user_sub", "export"));

        // A write after the load shows at once, and a new subject is known from its first write.
        Assert.Equal(HttpStatusCode.OK, (await ConsumeAsync(runtime, "user_left", 40, "after-restart-1")).StatusCode);
        Assert.Equal("user_left:False@3", await AskAsync(runtime, "user_left", null));
        Assert.Equal(HttpStatusCode.OK, (await ConsumeAsync(runtime, "user_both", 50, "after-restart-2")).StatusCode);
        Assert.Equal("user_both:True@3", await AskAsync(runtime, "user_both", null));
    }

    [Fact]
    public async Task Subjects_beyond_the_index_capacity_are_answered_from_the_store()
    {
        var first = await StartAsync(capacity: 2);
        var tenant = await TestTenant.CreateAsync(first);
        await BuyEverythingAsync(tenant);
        var before = await AskAllAsync(tenant.Runtime);
        var now = first.Clock.GetUtcNow();
        await StopAsync(first);

        var second = await StartAsync(now, capacity: 2);
        Assert.Equal(before, await AskAllAsync(second.RuntimeClient(tenant.ApiKey)));
    }

    private static async Task BuyEverythingAsync(TestTenant tenant)
    {
        await tenant.BuyAsync("user_sub", TestTenant.Subscription);
        await tenant.BuyAsync("user_pass", TestTenant.DayPass);
        await tenant.BuyAsync("user_spent", TestTenant.Credits);
        Assert.Equal(HttpStatusCode.OK, (await ConsumeAsync(tenant.Runtime, "user_spent", 50, "spend-all")).StatusCode);
        await tenant.BuyAsync("user_left", TestTenant.Credits);
        Assert.Equal(HttpStatusCode.OK, (await ConsumeAsync(tenant.Runtime, "user_left", 10, "spend-some")).StatusCode);
        await tenant.BuyAsync("user_both", TestTenant.Subscription);
        await tenant.BuyAsync("user_both", TestTenant.Credits);
    }

    private async Task<LicenzyApp> StartAsync(DateTimeOffset? now = null, int? capacity = null)
    {
        var app = new LicenzyApp { KeepData = true };
        app.Settings["Licenzy:DataPath"] = _dataPath;
        if (capacity is { } limit) app.Settings["Licenzy:AccessIndexCapacity"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (now is { } at) app.Clock.SetUtcNow(at);
        _apps.Add(app);
        await app.InitializeAsync();
        await WaitUntilReadyAsync(app.CreateClient());
        return app;
    }

    private static async Task StopAsync(LicenzyApp app) => await ((IAsyncLifetime)app).DisposeAsync();

    /// <summary>Readiness waits for the index to be loaded; the answers are right before it too, only slower.</summary>
    private static async Task WaitUntilReadyAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await client.GetAsync("/readyz")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "the app did not become ready within 30 s");
            await Task.Delay(20);
        }
    }

    private static async Task<string> AskAllAsync(HttpClient runtime) =>
        string.Join(' ', await Task.WhenAll(Questions.Select(q => AskAsync(runtime, q.Subject, q.Feature))));

    private static async Task<string> AskAsync(HttpClient runtime, string subjectRef, string? feature)
    {
        var response = await runtime.PostAsJsonAsync("/v1/access/check", feature is null ? new { subject_ref = subjectRef } : (object)new { subject_ref = subjectRef, feature });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var question = feature is null ? subjectRef : $"{subjectRef}/{feature}";
        return $"{question}:{body.GetProperty("allowed").GetBoolean()}@{body.GetProperty("version").GetInt64()}";
    }

    private static async Task<bool> IsAllowedAsync(HttpClient runtime, string subjectRef, string? feature = null) =>
        (await AskAsync(runtime, subjectRef, feature)).Contains(":True@", StringComparison.Ordinal);

    private static async Task<HttpResponseMessage> ConsumeAsync(HttpClient runtime, string subjectRef, long units, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/usage/consume") { Content = JsonContent.Create(new { subject_ref = subjectRef, units }) };
        request.Headers.Add("Idempotency-Key", key);
        return await runtime.SendAsync(request);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var app in _apps) await ((IAsyncLifetime)app).DisposeAsync();
        try
        {
            Directory.Delete(_dataPath, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open is left to the temp folder's cleanup.
        }
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Api.Subjects;
using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Testing;

namespace Licenzy.Api.Tests;

/// <summary>
/// <c>GET .../subjects/{subject_ref}/history</c>: every change to a subject, oldest first, each
/// written in the transaction of its change (decision 019).
/// </summary>
public abstract class SubjectHistoryTests(ILicenzyHost app)
{
    private DateTimeOffset Now => app.Clock.GetUtcNow();

    internal static HttpRequestMessage Consume(string subjectRef, long units, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/usage/consume") { Content = JsonContent.Create(new { subject_ref = subjectRef, units }) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    internal static async Task<JsonElement> HistoryAsync(TestTenant tenant, string subjectRef, string query = "")
    {
        var body = await (await tenant.Admin.GetAsync($"{tenant.ModePath}/subjects/{subjectRef}/history{query}")).OkJsonAsync();
        Assert.Equal(subjectRef, body.GetProperty("subject_ref").GetString());
        return body;
    }

    internal static List<JsonElement> Events(JsonElement history) => [.. history.GetProperty("events").EnumerateArray()];

    private static string EventIdOf(string body) => JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

    [Fact]
    public async Task Purchases_renewals_consumes_refunds_and_a_cancellation_are_told_oldest_first_with_their_versions()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var start = Now;
        var subscription = await tenant.BuyAsync("user_1", TestTenant.Subscription);
        var subscriptionId = "sub_" + subscription.Id;
        var created = StripeEvents.Subscription("customer.subscription.created", tenant.NextEventId(), Now, subscriptionId, "active",
            subscription.Metadata, Now, Now.AddDays(30));
        await tenant.DeliverAsync(created);
        app.Clock.Advance(TimeSpan.FromDays(30));
        var renewed = StripeEvents.Invoice("invoice.paid", tenant.NextEventId(), Now, subscriptionId, subscription.Metadata, Now.AddDays(30), "pi_renewal");
        await tenant.DeliverAsync(renewed);
        var credits = await tenant.BuyAsync("user_1", TestTenant.Credits);
        await (await tenant.Runtime.SendAsync(Consume("user_1", 5, "c1"))).OkJsonAsync();
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await (await tenant.Runtime.SendAsync(Consume("user_1", 1, "c2"))).OkJsonAsync();
        var refund = StripeEvents.ChargeRefunded(tenant.NextEventId(), Now, "pi_" + credits.Id, amountRefunded: 1900);
        await tenant.DeliverAsync(refund);
        var canceled = StripeEvents.Subscription("customer.subscription.deleted", tenant.NextEventId(), Now, subscriptionId, "canceled",
            subscription.Metadata, Now, Now.AddDays(30), canceledAt: Now);
        await tenant.DeliverAsync(canceled);

        var events = Events(await HistoryAsync(tenant, "user_1"));

        Assert.Equal(
        [
            ("stripe", "checkout.session.completed"), ("stripe", "customer.subscription.created"), ("stripe", "invoice.paid"),
            ("stripe", "checkout.session.completed"), ("usage", "usage.consumed"), ("usage", "usage.consumed"),
            ("stripe", "charge.refunded"), ("stripe", "customer.subscription.deleted"),
        ], events.Select(e => (e.GetProperty("source").GetString(), e.GetProperty("type").GetString())));
        Assert.Equal(Enumerable.Range(1, 8).Select(v => (long)v), events.Select(e => e.GetProperty("version").GetInt64()));
        Assert.Equal((await tenant.EntitlementsAsync("user_1")).GetProperty("version").GetInt64(), events[^1].GetProperty("version").GetInt64());
        var eventIds = events.Select(e => e.GetProperty("event_id").GetString()).ToList();
        Assert.Equal(new[] { EventIdOf(created), EventIdOf(renewed), EventIdOf(refund), EventIdOf(canceled) }, new[] { eventIds[1], eventIds[2], eventIds[6], eventIds[7] });
        Assert.Equal(6, eventIds.OfType<string>().Distinct().Count());
        Assert.All(events.Where(e => e.GetProperty("source").GetString() == "stripe"), e => Assert.StartsWith("evt_", e.GetProperty("event_id").GetString()));
        Assert.All(events.Where(e => e.GetProperty("source").GetString() == "usage"), e => Assert.Equal(JsonValueKind.Null, e.GetProperty("event_id").ValueKind));
        Assert.Equal(start, events[0].GetProperty("at").GetDateTimeOffset());
        Assert.Equal(Now, events[^1].GetProperty("at").GetDateTimeOffset());

        var summaries = events.Select(e => e.GetProperty("summary").GetString()!).ToList();
        Assert.Equal("checkout.session.completed: bought PRO_MONTHLY (subscription)", summaries[0]);
        Assert.Equal($"customer.subscription.created: subscription PRO_MONTHLY (subscription) active until {start.AddDays(30):yyyy-MM-dd}", summaries[1]);
        Assert.Equal($"invoice.paid: invoice paid for PRO_MONTHLY (subscription) until {start.AddDays(60):yyyy-MM-dd}", summaries[2]);
        Assert.Equal("checkout.session.completed: bought CREDITS_50 (usage_pack), 50 of 50 units left", summaries[3]);
        Assert.Equal("usage.consumed: 5 units consumed, 45 left", summaries[4]);
        Assert.Equal("usage.consumed: 1 unit consumed, 44 left", summaries[5]);
        Assert.Equal("charge.refunded: payment for CREDITS_50 (usage_pack) refunded; now revoked (refunded)", summaries[6]);
        Assert.StartsWith("customer.subscription.deleted: subscription PRO_MONTHLY (subscription) canceled; in grace until ", summaries[7]);
        Assert.All(summaries, summary => Assert.DoesNotContain('\n', summary));
    }

    [Fact]
    public async Task What_changes_nothing_adds_nothing_a_repeated_event_a_partial_refund_a_replayed_or_refused_consume()
    {
        var tenant = await TestTenant.CreateAsync(app);
        var session = await tenant.StartCheckoutAsync("user_1", TestTenant.Credits);
        var purchase = StripeEvents.CheckoutSession("checkout.session.completed", tenant.NextEventId(), Now, session, "paid");
        await tenant.DeliverAsync(purchase);
        await (await tenant.Runtime.SendAsync(Consume("user_1", 10, "c1"))).OkJsonAsync();
        var before = await HistoryAsync(tenant, "user_1");

        var repeat = await tenant.SendWebhookAsync(purchase);
        Assert.True((await repeat.OkJsonAsync()).GetProperty("duplicate").GetBoolean());
        await tenant.DeliverAsync(StripeEvents.ChargeRefunded(tenant.NextEventId(), Now, "pi_" + session.Id, amountRefunded: 500));
        var replayed = await tenant.Runtime.SendAsync(Consume("user_1", 10, "c1"));
        Assert.True(replayed.Headers.Contains("Idempotent-Replayed"));
        await (await tenant.Runtime.SendAsync(Consume("user_1", 1000, "c2"))).AssertProblemAsync(HttpStatusCode.Conflict, "insufficient_usage");

        var after = await HistoryAsync(tenant, "user_1");
        Assert.Equal(before.GetRawText(), after.GetRawText());
        Assert.Equal(2, Events(after).Count);
    }

    [Fact]
    public async Task A_long_history_is_read_a_page_at_a_time_across_the_stored_pages_boundaries()
    {
        // 41 changes: five full stored pages of eight, and one change in the head.
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        for (var i = 1; i <= 40; i++) await (await tenant.Runtime.SendAsync(Consume("user_1", 1, $"c{i}"))).OkJsonAsync();

        var versions = new List<long>();
        var query = "?limit=7";
        var pages = 0;
        while (true)
        {
            var page = await HistoryAsync(tenant, "user_1", query);
            pages++;
            var events = Events(page);
            Assert.InRange(events.Count, 1, 7);
            versions.AddRange(events.Select(e => e.GetProperty("version").GetInt64()));
            if (!page.GetProperty("has_more").GetBoolean())
            {
                Assert.Equal(JsonValueKind.Null, page.GetProperty("next_after_version").ValueKind);
                break;
            }
            Assert.Equal(events[^1].GetProperty("version").GetInt64(), page.GetProperty("next_after_version").GetInt64());
            query = $"?limit=7&after_version={page.GetProperty("next_after_version").GetInt64()}";
        }

        Assert.Equal(6, pages);
        Assert.Equal(Enumerable.Range(1, 41).Select(v => (long)v), versions);
        var whole = await HistoryAsync(tenant, "user_1");
        Assert.Equal(versions, Events(whole).Select(e => e.GetProperty("version").GetInt64()));
        Assert.False(whole.GetProperty("has_more").GetBoolean());
        foreach (var (after, limit) in new[] { (14, 5), (30, 6), (0, 1), (8, 1), (7, 2), (38, 3), (40, 3) })
        {
            var part = Events(await HistoryAsync(tenant, "user_1", $"?after_version={after}&limit={limit}"));
            Assert.Equal(Enumerable.Range(after + 1, Math.Min(limit, 41 - after)).Select(v => (long)v), part.Select(e => e.GetProperty("version").GetInt64()));
        }
        var crossing = Events(await HistoryAsync(tenant, "user_1", "?after_version=15&limit=2"));
        Assert.Equal(["usage.consumed: 1 unit consumed, 35 left", "usage.consumed: 1 unit consumed, 34 left"],
            crossing.Select(e => e.GetProperty("summary").GetString()));
        Assert.Empty(Events(await HistoryAsync(tenant, "user_1", "?after_version=41")));
        Assert.Empty(Events(await HistoryAsync(tenant, "user_1", "?after_version=1000")));
    }

    [Fact]
    public async Task Consumes_answered_together_each_have_their_own_entry_and_version()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => tenant.Runtime.SendAsync(Consume("user_1", 1, $"p{i}"))));
        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.OK, answer.StatusCode));

        var events = Events(await HistoryAsync(tenant, "user_1"));
        Assert.Equal(Enumerable.Range(1, 41).Select(v => (long)v), events.Select(e => e.GetProperty("version").GetInt64()));
        // Each spend says what was left after it, in the order they were spent.
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"usage.consumed: 1 unit consumed, {49 - i} left"),
            events.Skip(1).Select(e => e.GetProperty("summary").GetString()));
    }

    [Fact]
    public async Task An_unknown_subject_has_an_empty_history_and_modes_do_not_share_one()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        var unknown = await HistoryAsync(tenant, "nobody");
        Assert.Empty(Events(unknown));
        Assert.False(unknown.GetProperty("has_more").GetBoolean());
        var live = TestTenant.Existing(app, tenant.TenantId, "live");
        Assert.Empty(Events(await HistoryAsync(live, "user_1")));
        Assert.Single(Events(await HistoryAsync(tenant, "user_1")));
        // Every character subject_ref may hold reaches the subject.
        Assert.Empty(Events(await HistoryAsync(tenant, "a.b:c@d|e_f-G9")));
    }

    [Theory]
    [InlineData("", "bad%20ref", HttpStatusCode.BadRequest, "invalid_subject_ref")]
    [InlineData("", "user%2F1", HttpStatusCode.BadRequest, "invalid_subject_ref")]
    [InlineData("?limit=0", "user_1", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData("?limit=501", "user_1", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData("?limit=ten", "user_1", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData("?after_version=-1", "user_1", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData("?after_version=1&after_version=2", "user_1", HttpStatusCode.BadRequest, "invalid_request")]
    [InlineData("?after_version=99999999999999999999", "user_1", HttpStatusCode.BadRequest, "invalid_request")]
    public async Task Bad_inputs_are_refused(string query, string subjectRef, HttpStatusCode status, string code)
    {
        var tenant = await TestTenant.CreateAsync(app);

        await (await tenant.Admin.GetAsync($"{tenant.ModePath}/subjects/{subjectRef}/history{query}")).AssertProblemAsync(status, code);
    }

    [Fact]
    public async Task An_overlong_subject_ref_an_unknown_tenant_a_bad_mode_and_a_runtime_key_are_refused()
    {
        var tenant = await TestTenant.CreateAsync(app);

        await (await tenant.Admin.GetAsync($"{tenant.ModePath}/subjects/{new string('a', 257)}/history"))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_subject_ref");
        await (await tenant.Admin.GetAsync("/v1/admin/tenants/ten_nope/modes/test/subjects/user_1/history"))
            .AssertProblemAsync(HttpStatusCode.NotFound, "unknown_tenant");
        await (await tenant.Admin.GetAsync($"/v1/admin/tenants/{tenant.TenantId}/modes/prod/subjects/user_1/history"))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_mode");
        await (await tenant.Runtime.GetAsync($"{tenant.ModePath}/subjects/user_1/history"))
            .AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid_admin_token");
    }

    [Fact]
    public async Task Full_pages_get_keys_of_their_own_the_rest_is_in_a_head_beside_the_document_which_does_not_grow()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        var documentBefore = await StoredJsonAsync(app, StateKeys.Subject(tenant.TenantId, Mode.Test, "user_1"));
        for (var i = 0; i < 40; i++) await (await tenant.Runtime.SendAsync(Consume("user_1", 1, $"k{i}"))).OkJsonAsync();

        // 41 changes: five full pages of eight (versions 1 to 40), and version 41 in the head.
        var prefix = $"history|{tenant.TenantId}|test|user_1|";
        Assert.Equal(Enumerable.Range(0, 5).Select(page => prefix + page), (await HistoryKeysAsync(app, prefix)).Order(StringComparer.Ordinal));
        using var head = JsonDocument.Parse(await StoredJsonAsync(app, StateKeys.SubjectHistoryHead(tenant.TenantId, Mode.Test, "user_1")));
        Assert.Equal(1, head.RootElement.GetProperty("from").GetInt64());
        Assert.Equal(41, head.RootElement.GetProperty("last").GetInt64());
        Assert.Equal([41L], head.RootElement.GetProperty("changes").EnumerateArray().Select(change => change.GetProperty("version").GetInt64()));
        var document = await StoredJsonAsync(app, StateKeys.Subject(tenant.TenantId, Mode.Test, "user_1"));
        Assert.DoesNotContain("history", document);
        Assert.DoesNotContain("history", documentBefore);
    }

    /// <summary>The keys of the stored history entries that start with <paramref name="prefix"/>, on either binding.</summary>
    internal static async Task<IReadOnlyList<string>> HistoryKeysAsync(ILicenzyHost host, string prefix)
    {
        if (host.Sidecar is { } sidecar)
        {
            return [.. sidecar.Snapshot()
                .Where(line => line.StartsWith($"{Components.StateStore}|{prefix}", StringComparison.Ordinal))
                .Select(line => line[(Components.StateStore.Length + 1)..line.LastIndexOf('|')])];
        }
        return [.. (await StoredState.EmbeddedKeysMentioningAsync((LicenzyApp)host, prefix)).Where(key => key.StartsWith(prefix, StringComparison.Ordinal))];
    }

    /// <summary>The stored value of a key of the state store, on either binding ("" when there is none).</summary>
    private static async Task<string> StoredJsonAsync(ILicenzyHost host, string key)
    {
        if (host.Sidecar is { } sidecar) return sidecar.ValueOf(Components.StateStore, key) ?? "";
        var app = (LicenzyApp)host;
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(app.DataPath, "licenzy.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM state WHERE store = $store AND key = $key;";
        command.Parameters.AddWithValue("$store", Components.StateStore);
        command.Parameters.AddWithValue("$key", key);
        return (string?)await command.ExecuteScalarAsync() ?? "";
    }
}

public sealed class SubjectHistoryTestsOnEmbedded(LicenzyApp app) : SubjectHistoryTests(app), IClassFixture<LicenzyApp>;

public sealed class SubjectHistoryTestsOnDapr(DaprLicenzyApp app) : SubjectHistoryTests(app), IClassFixture<DaprLicenzyApp>
{
    [Fact]
    public async Task A_change_whose_transaction_fails_leaves_no_entry_and_its_retry_leaves_one()
    {
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Credits);

        app.Sidecar!.FailTransactions = true;
        try
        {
            await (await tenant.Runtime.SendAsync(Consume("user_1", 1, "down"))).AssertProblemAsync(HttpStatusCode.InternalServerError, "internal_error");
        }
        finally
        {
            app.Sidecar.FailTransactions = false;
        }
        Assert.Equal([1L], Events(await HistoryAsync(tenant, "user_1")).Select(e => e.GetProperty("version").GetInt64()));

        await (await tenant.Runtime.SendAsync(Consume("user_1", 1, "down"))).OkJsonAsync();
        Assert.Equal([1L, 2L], Events(await HistoryAsync(tenant, "user_1")).Select(e => e.GetProperty("version").GetInt64()));
    }
}

/// <summary>
/// A replica stopped in the middle of a subject's write, before or after the store committed it
/// (as <see cref="ReplicaTests"/> does): the change and its entry are both there or both missing.
/// </summary>
public sealed class SubjectHistoryReplicaTests : IAsyncLifetime
{
    private readonly DaprCluster _cluster = new();

    public Task InitializeAsync() => _cluster.InitializeAsync();

    public Task DisposeAsync() => _cluster.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_replica_stopped_mid_write_leaves_exactly_one_entry_per_committed_version(bool afterCommit)
    {
        var tenant = await TestTenant.CreateAsync(_cluster);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        var subject = new SubjectKey(tenant.TenantId, Mode.Test, "user_1");
        var hostName = await _cluster.Sidecar.PlacementOfAsync(SubjectActor.ActorType, subject.ActorId);
        var host = _cluster.Api.Single(replica => replica.Name == hostName);
        var other = _cluster.Api.Single(replica => replica != host);
        var runtime = other.Client(tenant.ApiKey);

        host.Gate.Arm(subject.StateKey, afterCommit);
        // Enough spends that one write fills the document's page and moves it to a key of its own.
        var first = Enumerable.Range(0, 30).Select(i => runtime.SendAsync(SubjectHistoryTests.Consume("user_1", 1, $"k{i}"))).ToList();
        await host.Gate.Reached.WaitAsync(TimeSpan.FromSeconds(30));
        await _cluster.StopAsync(host);
        var answered = await Task.WhenAll(first);
        foreach (var i in Enumerable.Range(0, 30).Where(i => answered[i].StatusCode != HttpStatusCode.OK))
            await (await runtime.SendAsync(SubjectHistoryTests.Consume("user_1", 1, $"k{i}"))).OkJsonAsync();

        Assert.Equal(31, (await tenant.EntitlementsAsync("user_1")).GetProperty("version").GetInt64());
        var events = SubjectHistoryTests.Events(await SubjectHistoryTests.HistoryAsync(tenant, "user_1"));
        Assert.Equal(Enumerable.Range(1, 31).Select(v => (long)v), events.Select(e => e.GetProperty("version").GetInt64()));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"usage.consumed: 1 unit consumed, {49 - i} left"),
            events.Skip(1).Select(e => e.GetProperty("summary").GetString()));
        var prefix = $"history|{tenant.TenantId}|test|user_1|";
        Assert.Equal([prefix + 0, prefix + 1, prefix + 2], (await SubjectHistoryTests.HistoryKeysAsync(_cluster, prefix)).Order(StringComparer.Ordinal));
    }
}

/// <summary>The history on the embedded store across a restart: the writer, which kept the head in memory, reads it again.</summary>
public sealed class SubjectHistoryRestartTests : IAsyncLifetime
{
    private readonly List<LicenzyApp> _apps = [];
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task After_a_restart_the_history_goes_on_from_where_it_was_and_access_answers_as_before()
    {
        var first = await StartAsync();
        var tenant = await TestTenant.CreateAsync(first);
        await tenant.BuyAsync("user_1", TestTenant.Credits);
        for (var i = 0; i < 10; i++) await (await tenant.Runtime.SendAsync(SubjectHistoryTests.Consume("user_1", 1, $"k{i}"))).OkJsonAsync();
        var before = await SubjectHistoryTests.HistoryAsync(tenant, "user_1");
        await ((IAsyncLifetime)first).DisposeAsync();

        var second = await StartAsync(first.Clock.GetUtcNow());
        var again = TestTenant.Existing(second, tenant.TenantId, "test");
        var runtime = second.RuntimeClient(tenant.ApiKey);
        Assert.Equal(before.GetRawText(), (await SubjectHistoryTests.HistoryAsync(again, "user_1")).GetRawText());
        for (var i = 10; i < 20; i++) await (await runtime.SendAsync(SubjectHistoryTests.Consume("user_1", 1, $"k{i}"))).OkJsonAsync();

        var events = SubjectHistoryTests.Events(await SubjectHistoryTests.HistoryAsync(again, "user_1"));
        Assert.Equal(Enumerable.Range(1, 21).Select(v => (long)v), events.Select(e => e.GetProperty("version").GetInt64()));
        Assert.Equal("usage.consumed: 1 unit consumed, 30 left", events[^1].GetProperty("summary").GetString());
        var check = await (await runtime.PostAsJsonAsync("/v1/access/check", new { subject_ref = "user_1" })).OkJsonAsync();
        Assert.True(check.GetProperty("allowed").GetBoolean());
        Assert.Equal(21, check.GetProperty("version").GetInt64());
    }

    private async Task<LicenzyApp> StartAsync(DateTimeOffset? now = null)
    {
        var app = new LicenzyApp { KeepData = true };
        app.Settings["Licenzy:DataPath"] = _dataPath;
        if (now is { } at) app.Clock.SetUtcNow(at);
        _apps.Add(app);
        await app.InitializeAsync();
        return app;
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
        }
    }
}

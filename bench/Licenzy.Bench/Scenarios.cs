using System.Security.Cryptography;
using System.Diagnostics;
using Licenzy.Bench.Load;

namespace Licenzy.Bench;

public sealed partial class BenchRun
{
    /// <summary>
    /// Every subject buys a usage pack through a signed webhook (a pack with units left is also
    /// access), then the bench waits until the public API shows it for every subject.
    /// </summary>
    private async Task SeedAsync()
    {
        var count = _settings.Subjects;
        Subjects = Enumerable.Range(0, count).Select(i => $"user_{i:D7}").ToArray();
        Step($"seeding {count:N0} subjects (a usage pack each) through signed webhooks");
        var start = Stopwatch.GetTimestamp();
        var sent = Must(await LoadDriver.CountAsync(_licenzy.Endpoint, 16, count,
            sequence => new Planned(_tenant.Purchase($"evt_seed_pack_{sequence}", Subjects[sequence], BenchProducts.Pack)), IsOk), "seed");
        var accepted = Since(start);
        await WaitUntilAsync(Subjects, expectedEntitlements: 1, TimeSpan.FromMinutes(5));
        var applied = Since(start);
        Console.WriteLine($"  seeded: {sent.Completed:N0} webhooks accepted in {accepted.TotalSeconds:0.0} s ({sent.Completed / accepted.TotalSeconds:N0}/s), all applied after {applied.TotalSeconds:0.0} s");
        _report.Details["seed"] = new
        {
            Webhooks = sent.Completed, sent.Errors, AcceptedSeconds = Math.Round(accepted.TotalSeconds, 2),
            AppliedSeconds = Math.Round(applied.TotalSeconds, 2), AppliedPerSecond = Math.Round(sent.Completed / applied.TotalSeconds),
        };
    }

    /// <summary>Reads every subject's entitlements until each shows <paramref name="expectedEntitlements"/>.</summary>
    private async Task WaitUntilAsync(string[] subjects, int expectedEntitlements, TimeSpan timeout)
    {
        var pending = subjects;
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var missing = new System.Collections.Concurrent.ConcurrentBag<string>();
            var current = pending;
            await LoadDriver.CountAsync(_licenzy.Endpoint, 8, current.Length,
                sequence => new Planned(_tenant.Entitlements(current[sequence]), ReadBody: true, Tag: (int)sequence),
                (in Planned planned, WireResponse response) =>
                {
                    if (response.Status != 200 || CountOf(response.Body!, "\"product_code\"") < expectedEntitlements)
                        missing.Add(current[planned.Tag]);
                    return true;
                });
            if (missing.IsEmpty) return;
            if (Stopwatch.GetTimestamp() > deadline)
                throw new TimeoutException($"{missing.Count} subjects still lack their entitlements after {timeout.TotalSeconds} s.");
            pending = [.. missing];
            await Task.Delay(250);
        }
    }

    private static int CountOf(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
            count++;
        return count;
    }

    private static string NewRunId() => RandomNumberGenerator.GetHexString(8, lowercase: true);

    /// <summary>
    /// The bare endpoint, measured first and again at the end: the ratios use the higher figure,
    /// so a slow moment of the machine cannot flatter Licenzy.
    /// </summary>
    private async Task BaselineAsync(string when = "first")
    {
        Step($"baseline ({when}): GET /bare on the minimal Kestrel app");
        var request = WireRequest.Get("/bare", null);
        var result = await ThroughputAsync($"baseline_{when}", _baseline.Endpoint, _ => new Planned(request));
        var previous = _bareThroughput;
        _bareThroughput = double.IsNaN(previous) ? result.PerSecond : Math.Max(previous, result.PerSecond);
        _report.Add(new ResultRow($"baseline GET /bare ({when})", "throughput", result.PerSecond, "req/s", "(reference)", null, null,
            double.IsNaN(previous) ? null : $"ratios use the higher baseline, {_bareThroughput:N0} req/s"));
    }

    /// <summary>
    /// Access checks at about <paramref name="rate"/> through wrk (each connection pauses 2 ms after
    /// every answer; the connection count sets the rate), and the bare endpoint loaded the same way:
    /// the latency floor of this machine at that load.
    /// </summary>
    private async Task<(WrkResult Access, WrkResult Bare)> HalfLoadLatencyAsync(double rate)
    {
        const int delayMs = 2;
        var connections = Math.Max(1, (int)Math.Round(rate * (delayMs + 0.5) / 1000));
        Step($"access/check at about {rate:N0}/s (half of the measured throughput): wrk, {connections} connections pausing {delayMs} ms");
        var access = Wrk.Script(
            $"return wrk.format(\"POST\", \"/v1/access/check\", nil, string.format('{{\"subject_ref\":\"user_%07d\"}}', (counter * 7919) % {Subjects.Length}))",
            delayMs, [("Authorization", $"Bearer {_tenant.ApiKey}"), ("Content-Type", "application/json")]);
        var bare = Wrk.Script("return wrk.format(\"GET\", \"/bare\")", delayMs, []);
        var accessResult = await Wrk.RunAsync(_licenzy.BaseUrl, connections, _settings.Measure, access, _dataPath);
        var bareResult = await Wrk.RunAsync(_baseline.BaseUrl, connections, _settings.Measure, bare, _dataPath);
        _report.Details["access_check_half_load"] = new { Connections = connections, DelayMs = delayMs, Access = Trim(accessResult), Bare = Trim(bareResult) };
        return (accessResult, bareResult);

        static object Trim(WrkResult r) => new { r.PerSecond, r.Requests, r.Errors, r.P50Ms, r.P90Ms, r.P99Ms };
    }

    private async Task AccessCheckAsync()
    {
        Step($"POST /v1/access/check over {Subjects.Length:N0} subjects");
        var result = await ThroughputAsync("access_check", _licenzy.Endpoint, AccessPlan(), Allowed);
        _accessThroughput = result.PerSecond;
        var ratio = result.PerSecond / _bareThroughput;
        _report.Add(new ResultRow("access/check, 10k subjects", "throughput", result.PerSecond, "req/s", ">= 0.6 x bare",
            ratio, ratio >= 0.6 && result.Errors == 0, result.Errors > 0 ? $"{result.Errors} errors: {result.FirstError}" : null));

        var (paced, floor) = await HalfLoadLatencyAsync(result.PerSecond / 2);
        _report.Add(new ResultRow("access/check, 10k subjects", "p99 at half load", paced.P99Ms, "ms", "<= 2 ms", null,
            paced.P99Ms <= 2 && paced.Errors == 0,
            $"wrk at {paced.PerSecond:N0} req/s; the bare endpoint the same way: {floor.PerSecond:N0} req/s, p99 {floor.P99Ms:0.00} ms"));
        _report.Add(new ResultRow("access/check, 10k subjects", "RSS peak", _rss.Peak, "MB", "(info)", null, null));
    }

    /// <summary>Access checks spread evenly over the seeded subjects; every 16th answer is read.</summary>
    private LoadDriver.Plan AccessPlan()
    {
        var requests = Subjects.Select(_tenant.AccessCheck).ToArray();
        return sequence =>
        {
            var index = (int)((ulong)(sequence * 7919) % (ulong)requests.Length);
            return new Planned(requests[index], ReadBody: sequence % 16 == 0);
        };
    }

    /// <summary>A 200, and where the answer was read, an allowed one.</summary>
    private static bool Allowed(in Planned planned, WireResponse response) =>
        response.Status == 200 && (response.Body is null || response.Body.Contains("\"allowed\":true", StringComparison.Ordinal));

    /// <summary>
    /// License validation over the seeded subjects' keys (each pack purchase provisions one),
    /// set beside the access check measured just before: the issue asks for it to be as fast.
    /// </summary>
    private async Task ValidateLicenseAsync()
    {
        Step($"reading the license keys of {Subjects.Length:N0} subjects");
        var keys = new string[Subjects.Length];
        Must(await LoadDriver.CountAsync(_licenzy.Endpoint, 8, Subjects.Length,
            sequence => new Planned(_tenant.Licenses(Subjects[sequence]), ReadBody: true, Tag: (int)sequence),
            (in Planned planned, WireResponse response) =>
            {
                const string marker = "\"key\":\"";
                var body = response.Body!;
                var at = body.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
                keys[planned.Tag] = body[at..body.IndexOf('"', at)];
                return response.Status == 200 && at > marker.Length;
            }), "license keys");

        Step($"POST /v1/licenses/validate over {keys.Length:N0} keys");
        var requests = keys.Select(_tenant.ValidateLicense).ToArray();
        var result = await ThroughputAsync("license_validate", _licenzy.Endpoint, sequence =>
        {
            var index = (int)((ulong)(sequence * 7919) % (ulong)requests.Length);
            return new Planned(requests[index], ReadBody: sequence % 16 == 0);
        }, static (in Planned planned, WireResponse response) =>
            response.Status == 200 && (response.Body is null || response.Body.Contains("\"valid\":true", StringComparison.Ordinal)));
        var ratio = double.IsNaN(_accessThroughput) ? (double?)null : result.PerSecond / _accessThroughput;
        _report.Add(new ResultRow("licenses/validate, 10k keys", "throughput", result.PerSecond, "req/s", ">= 0.9 x access/check",
            ratio, ratio is null ? null : ratio >= 0.9 && result.Errors == 0,
            ratio is null ? "access/check did not run, so there is nothing to compare with" : $"access/check in this run: {_accessThroughput:N0} req/s"));
    }

    /// <summary>
    /// Entitlement tokens issued over the seeded subjects: each is the access check's read plus
    /// the claims written and one Ed25519 signature. Reported beside the access check.
    /// </summary>
    private async Task AccessTokenAsync()
    {
        Step($"POST /v1/access/token over {Subjects.Length:N0} subjects");
        var requests = Subjects.Select(_tenant.AccessToken).ToArray();
        var result = await ThroughputAsync("access_token", _licenzy.Endpoint,
            sequence => new Planned(requests[(int)((ulong)(sequence * 7919) % (ulong)requests.Length)], ReadBody: sequence % 16 == 0),
            static (in Planned planned, WireResponse response) =>
                response.Status == 200 && (response.Body is null || response.Body.Contains("\"token\":\"ey", StringComparison.Ordinal)));
        var ratio = double.IsNaN(_accessThroughput) ? (double?)null : result.PerSecond / _accessThroughput;
        _report.Add(new ResultRow("access/token, 10k subjects", "throughput", result.PerSecond, "req/s", "(reported)",
            ratio, result.Errors == 0 ? null : false,
            ratio is null ? "access/check did not run, so there is nothing to compare with" : $"access/check in this run: {_accessThroughput:N0} req/s"));
    }

    private async Task CustomerAccessAsync()
    {
        Step("GET /v1/customer/access/{subject}");
        var requests = Subjects.Select(_tenant.CustomerAccess).ToArray();
        var result = await ThroughputAsync("customer_access", _licenzy.Endpoint,
            sequence => new Planned(requests[(int)((ulong)(sequence * 7919) % (ulong)requests.Length)]), IsOk);
        var ratio = result.PerSecond / _bareThroughput;
        _report.Add(new ResultRow("GET customer/access", "throughput", result.PerSecond, "req/s", ">= 0.4 x bare", ratio,
            ratio >= 0.4 && result.Errors == 0));
    }

    /// <summary>
    /// A purchase webhook for a new subject; from its 2xx, access checks as fast as they answer
    /// until one says allowed. A few workers at once, so the dispatcher is not idle-optimistic.
    /// </summary>
    private async Task WebhookToAllowedAsync()
    {
        Step($"webhook accepted -> access/check allowed, {_settings.LatencySamples} purchases");
        var histogram = new LatencyHistogram();
        var next = -1;
        long failures = 0;
        async Task Worker()
        {
            using var hook = await HttpWire.OpenAsync(_licenzy.Endpoint, default);
            using var check = await HttpWire.OpenAsync(_licenzy.Endpoint, default);
            int i;
            while ((i = Interlocked.Increment(ref next)) < _settings.LatencySamples)
            {
                var subject = $"fresh_{i:D6}";
                var accepted = await hook.SendAsync(_tenant.Purchase($"evt_fresh_{i}", subject, BenchProducts.Subscription), false, default);
                var acceptedAt = Stopwatch.GetTimestamp();
                if (accepted.Status != 200)
                {
                    Interlocked.Increment(ref failures);
                    continue;
                }
                var request = _tenant.AccessCheck(subject);
                while (true)
                {
                    var answer = await check.SendAsync(request, true, default);
                    if (answer.Body!.Contains("\"allowed\":true", StringComparison.Ordinal)) break;
                    if (Stopwatch.GetElapsedTime(acceptedAt) > TimeSpan.FromSeconds(30))
                    {
                        Interlocked.Increment(ref failures);
                        break;
                    }
                }
                histogram.Record(acceptedAt, Stopwatch.GetTimestamp());
            }
        }
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(Worker)));
        var p99 = histogram.Quantile(0.99);
        _report.Details["webhook_to_allowed"] = new
        {
            Samples = histogram.Count, Failures = failures, P50Ms = histogram.Quantile(0.5), P99Ms = p99, MaxMs = histogram.Quantile(1),
        };
        _report.Add(new ResultRow("webhook 2xx -> access allowed", "p99", p99, "ms", "<= 50 ms", null, p99 <= 50 && failures == 0));
    }

    /// <summary>Verified purchase webhooks for new subjects, as fast as Ingest accepts them (2xx means stored durably).</summary>
    private async Task WebhookIngestAsync()
    {
        Step("verified webhooks ingested");
        var run = RandomNumberGenerator.GetHexString(6, lowercase: true);
        LoadDriver.Plan plan = sequence =>
            new Planned(_tenant.Purchase($"evt_ingest_{run}_{sequence}", $"ingest_{run}_{sequence}", BenchProducts.Subscription));
        var result = await ThroughputAsync("webhook_ingest", _licenzy.Endpoint, plan, IsOk, warm: false);
        _report.Add(new ResultRow("verified webhooks ingested, durable", "throughput", result.PerSecond, "events/s", ">= 2,000/s",
            null, result.PerSecond >= 2000 && result.Errors == 0));

        // Let the dispatcher catch up before the next scenario, and say how long that took.
        var drain = Stopwatch.GetTimestamp();
        var last = $"ingest_{run}_{result.Completed - 1}";
        var sample = Enumerable.Range(0, 50).Select(k => $"ingest_{run}_{result.Completed * k / 50}").Append(last).Distinct().ToArray();
        await WaitUntilAsync(sample, 1, TimeSpan.FromMinutes(5));
        _report.Details["webhook_ingest_drain_seconds"] = Math.Round(Since(drain).TotalSeconds, 2);
    }

    private async Task ConsumeAcrossSubjectsAsync()
    {
        Step($"POST /v1/usage/consume across {Subjects.Length:N0} subjects");
        var successes = new long[Subjects.Length];
        LoadDriver.Plan Phase(string run) => sequence =>
        {
            var index = (int)((ulong)(sequence * 7919) % (ulong)Subjects.Length);
            return new Planned(_tenant.Consume(Subjects[index], 1, $"c-{run}-{sequence}"), Tag: index);
        };
        LoadDriver.Check count = (in Planned planned, WireResponse response) =>
        {
            if (response.Status == 200) Interlocked.Increment(ref successes[planned.Tag]);
            return response.Status is 200 or 409;
        };
        await LoadDriver.ClosedAsync(_licenzy.Endpoint, Connections, _settings.Warmup, Phase(NewRunId()), count);
        var result = Must(await LoadDriver.ClosedAsync(_licenzy.Endpoint, Connections, _settings.Measure, Phase(NewRunId()), count), "consume");
        _report.Details["consume_10k"] = Describe(result);
        var overspent = await OverspendAsync(Subjects, successes, BenchProducts.PackUnits);
        _report.Add(new ResultRow("usage/consume, 10k subjects", "throughput", result.PerSecond, "req/s", ">= 10,000/s", null,
            result.PerSecond >= 10_000 && result.Errors == 0));
        _report.Add(new ResultRow("usage/consume, 10k subjects", "overspent subjects", overspent, "", "0", null, overspent == 0));
    }

    private async Task ConsumeHotSubjectAsync()
    {
        Step("POST /v1/usage/consume on one hot subject");
        var subject = "hot_subject";
        var bought = await LoadDriver.CountAsync(_licenzy.Endpoint, 1, 1,
            _ => new Planned(_tenant.Purchase("evt_hot_pack", subject, BenchProducts.HotPack)), IsOk);
        if (bought.Errors > 0) throw new InvalidOperationException($"hot pack purchase failed: {bought.FirstError}");
        await WaitUntilAsync([subject], 1, TimeSpan.FromMinutes(1));

        var successes = new long[1];
        LoadDriver.Plan Phase(string run) => sequence => new Planned(_tenant.Consume(subject, 1, $"h-{run}-{sequence}"));
        LoadDriver.Check count = (in Planned planned, WireResponse response) =>
        {
            if (response.Status == 200) Interlocked.Increment(ref successes[0]);
            return response.Status is 200 or 409;
        };
        await LoadDriver.ClosedAsync(_licenzy.Endpoint, Connections, _settings.Warmup, Phase(NewRunId()), count);
        var result = Must(await LoadDriver.ClosedAsync(_licenzy.Endpoint, Connections, _settings.Measure, Phase(NewRunId()), count), "consume_hot");
        _report.Details["consume_hot"] = Describe(result);
        var overspent = await OverspendAsync([subject], successes, BenchProducts.HotPackUnits);
        _report.Add(new ResultRow("usage/consume, one hot subject", "throughput", result.PerSecond, "req/s", ">= 3,000/s", null,
            result.PerSecond >= 3_000 && result.Errors == 0));
        _report.Add(new ResultRow("usage/consume, one hot subject", "overspent subjects", overspent, "", "0", null, overspent == 0));
    }

    /// <summary>
    /// After the run: for each subject, what Licenzy says remains must be exactly what was granted
    /// minus what the bench was told it consumed (each request spends 1 unit). Anything else is an
    /// overspend or a lost update.
    /// </summary>
    private async Task<int> OverspendAsync(string[] subjects, long[] successes, long granted)
    {
        var wrong = 0;
        var examples = new System.Collections.Concurrent.ConcurrentBag<string>();
        await LoadDriver.CountAsync(_licenzy.Endpoint, 8, subjects.Length,
            sequence => new Planned(_tenant.Entitlements(subjects[sequence]), ReadBody: true, Tag: (int)sequence),
            (in Planned planned, WireResponse response) =>
            {
                var remaining = response.Status == 200 ? BenchTenant.UsageRemaining(response.Body!) : null;
                var expected = granted - successes[planned.Tag];
                if (remaining != expected || remaining < 0)
                {
                    Interlocked.Increment(ref wrong);
                    if (examples.Count < 5) examples.Add($"{subjects[planned.Tag]}: remaining {remaining}, expected {expected}");
                }
                return true;
            });
        if (wrong > 0) Console.WriteLine($"  !! usage mismatch: {string.Join("; ", examples)}");
        return wrong;
    }
}

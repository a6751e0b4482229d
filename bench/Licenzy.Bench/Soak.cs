using System.Diagnostics;
using Licenzy.Bench.Load;

namespace Licenzy.Bench;

public sealed partial class BenchRun
{
    private const string SoakEntitled = "active";
    private const string SoakCanceled = "canceled";

    /// <summary>
    /// Mixed traffic at half the measured access-check capacity: 90 % access checks, 5 % consumes,
    /// 5 % webhooks (purchases and cancellations of fresh subjects, sent out of order and with
    /// repeats). Reports errors, p99 and RSS per window, then checks every subject's final state
    /// against what the traffic implied.
    /// </summary>
    private async Task SoakAsync()
    {
        var window = _settings.Soak < TimeSpan.FromMinutes(2) ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(30);
        var checks = Subjects.Select(_tenant.AccessCheck).ToArray();
        var consumed = new long[Subjects.Length];
        var hooks = SoakWebhooks((int)(_accessThroughput * 0.05 * (_settings.Soak + _settings.Measure).TotalSeconds * 0.6) + 100);
        var run = NewRunId();
        long webhookCursor = -1;

        LoadDriver.Plan plan = sequence =>
        {
            var index = (int)((ulong)(sequence * 7919) % (ulong)Subjects.Length);
            return (sequence % 20) switch
            {
                0 => new Planned(_tenant.Consume(Subjects[index], 1, $"s-{run}-{sequence}"), Tag: index + 1, Kind: 2),
                1 => new Planned(_tenant.Webhook(hooks.Bodies[(int)(Interlocked.Increment(ref webhookCursor) % hooks.Bodies.Count)]), Tag: 0, Kind: 3),
                _ => new Planned(checks[index], Tag: 0, Kind: 1),
            };
        };
        LoadDriver.Check check = (in Planned planned, WireResponse response) =>
        {
            if (planned.Tag > 0 && response.Status == 200) Interlocked.Increment(ref consumed[planned.Tag - 1]);
            return response.Status == 200;
        };

        Step("soak: the capacity of this mix, closed loop");
        var capacity = Must(await LoadDriver.ClosedAsync(_licenzy.Endpoint, Connections, _settings.Measure, plan, check), "soak_capacity");
        _report.Details["soak_capacity"] = Describe(capacity);
        // BENCH_SOAK_RATE=<requests/s> fixes the rate instead, to compare two builds at the same load.
        var rate = double.TryParse(Environment.GetEnvironmentVariable("BENCH_SOAK_RATE"), System.Globalization.CultureInfo.InvariantCulture, out var fixedRate)
            ? fixedRate
            : capacity.PerSecond / 2;
        var capacityOffset = capacity.Completed + capacity.Errors + Connections;
        Step($"soak: {_settings.Soak.TotalMinutes:0.#} min of the mix at {rate:N0} req/s (half of {capacity.PerSecond:N0}), {window.TotalSeconds:0} s windows");

        var windows = new List<object>();
        var worstP99 = double.NaN;
        var rssCurve = new List<double>();
        long errors = capacity.Errors, requests = capacity.Completed;
        string? firstError = null;
        var start = Stopwatch.GetTimestamp();
        var sequenceBase = capacityOffset;
        while (Since(start) < _settings.Soak)
        {
            var length = TimeSpan.FromTicks(Math.Min(window.Ticks, (_settings.Soak - Since(start)).Ticks));
            if (length < TimeSpan.FromSeconds(1)) break;
            var offset = sequenceBase;
            // The generator's own collector pauses count as latency (a late request counts from its plan),
            // so each window says how long this process was paused, to tell its stalls from Licenzy's.
            var pausedBefore = GC.GetTotalPauseDuration();
            var fullCollectionsBefore = GC.CollectionCount(2);
            var result = await LoadDriver.PacedAsync(_licenzy.Endpoint, Connections, length, rate, s => plan(offset + s), check);
            sequenceBase += result.Completed + result.Errors + Connections;
            errors += result.Errors;
            requests += result.Completed;
            firstError ??= result.FirstError;
            var generatorPausedMs = Math.Round((GC.GetTotalPauseDuration() - pausedBefore).TotalMilliseconds, 1);
            var generatorFullCollections = GC.CollectionCount(2) - fullCollectionsBefore;
            var rss = _licenzy.RssMegabytes();
            rssCurve.Add(rss);
            var p99 = result.Latency.Quantile(0.99);
            worstP99 = double.IsNaN(worstP99) ? p99 : Math.Max(worstP99, p99);
            windows.Add(new
            {
                AtSeconds = Math.Round(Since(start).TotalSeconds), result.Completed, result.Errors, PerSecond = Math.Round(result.PerSecond),
                P50Ms = result.Latency.Quantile(0.5), P99Ms = p99, RssMb = Math.Round(rss, 1),
                AccessCheckP99Ms = P99(result, 1), ConsumeP99Ms = P99(result, 2), WebhookP99Ms = P99(result, 3),
                GeneratorPausedMs = generatorPausedMs, GeneratorFullCollections = generatorFullCollections,
            });
            Console.WriteLine($"  {Since(start).TotalSeconds,5:0} s: {result.PerSecond,7:N0} req/s, p99 {p99,6:0.00} ms (access {P99(result, 1):0.00}, consume {P99(result, 2):0.00}, webhook {P99(result, 3):0.00}), errors {result.Errors}, RSS {rss:0} MB; generator paused {generatorPausedMs:0} ms ({generatorFullCollections} full collections)");
        }

        Step("soak: waiting for the webhooks to be applied, then checking every subject");
        var usageWrong = await OverspendAsync(Subjects, consumed, BenchProducts.PackUnits);
        var sent = Interlocked.Read(ref webhookCursor) + 1;
        var told = hooks.Complete.Where(c => c.Value <= sent).Select(c => c.Key).ToArray();
        var stateWrong = await SoakStatesAsync(told, hooks.Expected, TimeSpan.FromSeconds(90));

        // Bounded: the last third of the run may not sit more than 10 % (and 20 MB) above the middle third.
        var third = Math.Max(1, rssCurve.Count / 3);
        var middle = rssCurve.Skip(third).Take(third).DefaultIfEmpty(double.NaN).Max();
        var last = rssCurve.Skip(rssCurve.Count - third).Max();
        var bounded = double.IsNaN(middle) || last <= middle * 1.1 + 20;

        _report.Details["soak"] = new
        {
            Rate = Math.Round(rate), Minutes = _settings.Soak.TotalMinutes, Requests = requests, Errors = errors, FirstError = firstError,
            WebhookSubjects = told.Length, WebhookSends = sent, Windows = windows,
            UsageMismatches = usageWrong, StateMismatches = stateWrong,
        };
        _report.Add(new ResultRow("soak", "errors", errors, $"of {requests:N0}", "0", null, errors == 0, firstError));
        _report.Add(new ResultRow("soak", "worst window p99", worstP99, "ms", "(reported)", null, null));
        _report.Add(new ResultRow("soak", "RSS last third vs middle third", last, "MB", "bounded", null, bounded,
            $"middle third peak {middle:0} MB; curve {string.Join(" ", rssCurve.Select(r => r.ToString("0")))}"));
        _report.Add(new ResultRow("soak", "subjects not in the implied state", usageWrong + stateWrong, "", "0", null, usageWrong + stateWrong == 0));
    }

    /// <param name="Complete">Per subject, how many bodies must have been sent for its whole story to have been sent once.</param>
    private static double P99(LoadResult result, int kind) => result.ByKind[kind]?.Quantile(0.99) ?? double.NaN;

    private sealed record SoakHooks(List<string> Bodies, Dictionary<string, string> Expected, Dictionary<string, int> Complete);

    /// <summary>
    /// Fresh subjects: each buys a subscription; every other one also cancels it. A third of the
    /// stories are sent cancellation first, and about half of the events are sent twice, later.
    /// </summary>
    private SoakHooks SoakWebhooks(int sends)
    {
        var random = new Random(20261123);
        var bodies = new List<string>(sends + 16);
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        var complete = new Dictionary<string, int>(StringComparer.Ordinal);
        var repeats = new List<(int At, string Body)>();
        var created = DateTimeOffset.UtcNow.AddMinutes(-30);
        var run = NewRunId();
        for (var k = 0; bodies.Count < sends; k++)
        {
            var subject = $"soak_{run}_{k}";
            var buyId = $"evt_soak_{run}_buy_{k}";
            var story = new List<string> { _tenant.PurchaseBody(buyId, subject, BenchProducts.Subscription, created.AddSeconds(k)) };
            var cancels = k % 2 == 1;
            if (cancels) story.Add(_tenant.CancelBody($"evt_soak_{run}_cancel_{k}", buyId, subject, created.AddSeconds(k + 60)));
            if (cancels && random.Next(3) == 0) story.Reverse();
            expected[subject] = cancels ? SoakCanceled : SoakEntitled;
            foreach (var body in story)
            {
                bodies.Add(body);
                complete[subject] = bodies.Count;
                if (random.Next(2) == 0) repeats.Add((bodies.Count + random.Next(1, 200), body));
            }
            foreach (var due in repeats.Where(r => r.At <= bodies.Count).ToList())
            {
                bodies.Add(due.Body);
                repeats.Remove(due);
            }
        }
        bodies.AddRange(repeats.Select(r => r.Body));
        return new SoakHooks(bodies, expected, complete);
    }

    /// <summary>Subjects whose subscription is not in the state their events imply, once delivery has caught up.</summary>
    private async Task<int> SoakStatesAsync(string[] sentAll, Dictionary<string, string> expected, TimeSpan patience)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(patience.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var wrong = new System.Collections.Concurrent.ConcurrentBag<string>();
            await LoadDriver.CountAsync(_licenzy.Endpoint, 8, sentAll.Length,
                sequence => new Planned(_tenant.Entitlements(sentAll[sequence]), ReadBody: true, Tag: (int)sequence),
                (in Planned planned, WireResponse response) =>
                {
                    var subject = sentAll[planned.Tag];
                    if (response.Status != 200 || !response.Body!.Contains($"\"status\":\"{expected[subject]}\"", StringComparison.Ordinal))
                        wrong.Add(subject);
                    return true;
                });
            if (wrong.IsEmpty || Stopwatch.GetTimestamp() > deadline)
            {
                if (!wrong.IsEmpty) Console.WriteLine($"  !! {wrong.Count} subjects not as implied, e.g. {string.Join(", ", wrong.Take(3))}");
                _report.Details["soak_subjects_checked"] = sentAll.Length;
                return wrong.Count;
            }
            await Task.Delay(1000);
        }
    }
}

using System.Diagnostics;
using Licenzy.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Bench;

/// <summary>
/// Licenzy.Client in this process against the Licenzy under test (issue 18): how fast
/// <see cref="LicenzyClient.IsAllowedAsync"/> answers from tokens it holds, on one thread, how
/// many network calls it makes meanwhile (none is the claim), and how fast one thread verifies
/// tokens with <see cref="LicenzyClient.VerifyTokenAsync"/>.
/// </summary>
public sealed partial class BenchRun
{
    private const int ClientSubjects = 1_024;

    /// <summary>Counts every request the client's HttpClient sends (innermost handler, under the resilience handler).</summary>
    private sealed class CallCounter
    {
        private long _calls;
        public long Calls => Interlocked.Read(ref _calls);
        public void Count() => Interlocked.Increment(ref _calls);
    }

    private sealed class CountingHandler(CallCounter counter) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            counter.Count();
            return base.SendAsync(request, ct);
        }
    }

    private async Task ClientLibraryAsync()
    {
        Step($"Licenzy.Client: IsAllowedAsync from held tokens and token verification, one thread, {ClientSubjects:N0} subjects");
        var counter = new CallCounter();
        var services = new ServiceCollection();
        services.AddLicenzyClient(options =>
        {
            options.BaseAddress = _licenzy.BaseUrl;
            options.ApiKey = _tenant.ApiKey;
            options.TenantId = _tenant.TenantId;
        }).AddHttpMessageHandler(() => new CountingHandler(counter));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<LicenzyClient>();
        var subjects = Subjects.Take(ClientSubjects).ToArray();

        // The first answer for each subject fetches its token (and, once, the key set).
        foreach (var subject in subjects)
            if (!await client.IsAllowedAsync(subject))
                throw new InvalidOperationException($"{subject} bought a pack in the seed, yet IsAllowedAsync says no");
        var callsBefore = counter.Calls;

        var answers = OnOneThread(() => AnswerLoop(client, subjects, _settings.Measure, latency: null));
        var latency = new NanoHistogram();
        OnOneThread(() => AnswerLoop(client, subjects, _settings.Measure / 3, latency));
        var callsDuring = counter.Calls - callsBefore;

        var tokens = new string[subjects.Length];
        for (var i = 0; i < subjects.Length; i++) tokens[i] = (await client.GetAccessTokenAsync(subjects[i])).Token;
        var callsBeforeVerifying = counter.Calls;
        var verifications = OnOneThread(() => VerifyLoop(client, subjects, tokens, _settings.Measure));
        var verifyCalls = counter.Calls - callsBeforeVerifying;

        _report.Details["client_is_allowed"] = new
        {
            PerSecond = Math.Round(answers.PerSecond), answers.Completed, answers.Wrong, answers.Pending,
            P50Ns = latency.Quantile(0.50), P99Ns = latency.Quantile(0.99), P999Ns = latency.Quantile(0.999), MaxNs = latency.Max,
            LatencySamples = latency.Count, NetworkCalls = callsDuring,
        };
        _report.Details["client_verify_token"] = new
        {
            PerSecond = Math.Round(verifications.PerSecond), verifications.Completed, verifications.Wrong, verifications.Pending,
            NetworkCalls = verifyCalls,
        };

        var sound = answers.Wrong == 0 && answers.Pending == 0;
        var checkNote = double.IsNaN(_accessThroughput) ? "access/check did not run" : $"access/check in this run: {_accessThroughput:N0} req/s";
        _report.Add(new ResultRow("client IsAllowedAsync, held token", "throughput, one thread", answers.PerSecond, "answers/s",
            ">= 1,000,000/s", double.IsNaN(_accessThroughput) ? null : answers.PerSecond / _accessThroughput,
            answers.PerSecond >= 1_000_000 && sound,
            $"ratio is to access/check ({checkNote}); {answers.Wrong} wrong answers, {answers.Pending} not answered at once"));
        _report.Add(new ResultRow("client IsAllowedAsync, held token", "latency p99", latency.Quantile(0.99) / 1000.0, "µs", "< 5 µs", null,
            latency.Quantile(0.99) < 5_000));
        _report.Add(new ResultRow("client IsAllowedAsync, held token", "network calls", callsDuring, "calls", "0", null, callsDuring == 0));
        _report.Add(new ResultRow("client VerifyTokenAsync", "throughput, one thread", verifications.PerSecond, "tokens/s", "(reported)",
            double.IsNaN(_accessThroughput) ? null : verifications.PerSecond / _accessThroughput,
            verifications.Wrong == 0 && verifications.Pending == 0 && verifyCalls == 0 ? null : false,
            $"ratio is to access/check; {verifyCalls} network calls, {verifications.Wrong} refused"));
    }

    private readonly record struct LoopResult(long Completed, long Wrong, long Pending, double Seconds)
    {
        public double PerSecond => Completed / Seconds;
    }

    /// <summary>Runs <paramref name="work"/> on a thread of its own (not the pool's), so it has a core to itself.</summary>
    private static T OnOneThread<T>(Func<T> work)
    {
        T result = default!;
        var thread = new Thread(() => result = work()) { Name = "bench-client", IsBackground = true };
        thread.Start();
        thread.Join();
        return result;
    }

    /// <summary>IsAllowedAsync over the subjects in turn for <paramref name="length"/>; every answer must be "yes", at once.</summary>
    private static LoopResult AnswerLoop(LicenzyClient client, string[] subjects, TimeSpan length, NanoHistogram? latency)
    {
        long completed = 0, wrong = 0, pending = 0;
        var mask = subjects.Length - 1;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(length.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            // The clock is read once per 1,024 answers, so the loop measures the client rather than the timer.
            for (var i = 0; i < 1_024; i++)
            {
                var subject = subjects[(int)(completed & mask)];
                var before = latency is null ? 0 : Stopwatch.GetTimestamp();
                var answer = client.IsAllowedAsync(subject);
                if (latency is not null) latency.Record(Stopwatch.GetTimestamp() - before);
                if (!answer.IsCompletedSuccessfully) pending++;
                else if (!answer.Result) wrong++;
                completed++;
            }
            if (Stopwatch.GetTimestamp() >= end) break;
        }
        return new LoopResult(completed, wrong, pending, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    private static LoopResult VerifyLoop(LicenzyClient client, string[] subjects, string[] tokens, TimeSpan length)
    {
        long completed = 0, wrong = 0, pending = 0;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(length.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end)
        {
            for (var i = 0; i < 64; i++)
            {
                var at = (int)(completed % subjects.Length);
                try
                {
                    var verified = client.VerifyTokenAsync(tokens[at], subjects[at]);
                    if (!verified.IsCompletedSuccessfully) pending++;
                    else if (!verified.Result.Allowed) wrong++;
                }
                catch (TokenVerificationException)
                {
                    wrong++;
                }
                completed++;
            }
        }
        return new LoopResult(completed, wrong, pending, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>Latencies in 10 ns buckets up to 1 ms (one thread; no locking).</summary>
    private sealed class NanoHistogram
    {
        private const int BucketNanos = 10;
        private readonly long[] _buckets = new long[100_000];
        private readonly double _nanosPerTick = 1e9 / Stopwatch.Frequency;

        public long Count { get; private set; }
        public double Max { get; private set; }

        public void Record(long ticks)
        {
            var nanos = ticks * _nanosPerTick;
            if (nanos > Max) Max = nanos;
            _buckets[(int)Math.Min(nanos / BucketNanos, _buckets.Length - 1)]++;
            Count++;
        }

        /// <summary>The latency at <paramref name="quantile"/> in nanoseconds (the bucket's upper edge).</summary>
        public double Quantile(double quantile)
        {
            if (Count == 0) return double.NaN;
            var rank = (long)Math.Ceiling(quantile * Count);
            long seen = 0;
            for (var i = 0; i < _buckets.Length; i++)
                if ((seen += _buckets[i]) >= rank) return (i + 1) * BucketNanos;
            return _buckets.Length * BucketNanos;
        }
    }
}

using System.Diagnostics;
using Licenzy.Bench.Load;

namespace Licenzy.Bench;

public sealed partial class BenchRun
{
    /// <summary>Tenants with an endpoint each (issue 17: "1,000 tenants' endpoints with one of them hanging").</summary>
    private const int OutboundTenantCount = 1_000;

    /// <summary>The tenant whose endpoint never answers.</summary>
    private const int HangingTenant = 0;

    /// <summary>
    /// Purchases a second, spread over the tenants: meant as a steady load below what Licenzy
    /// applies and delivers, so the figure is delivery latency, not a queue that grows through the
    /// phase. 200 a second did queue, for seconds, on this machine (bench/README.md, 2026-12-05).
    /// </summary>
    private static readonly double OutboundRate =
        // BENCH_OUTBOUND_RATE=<purchases/s> sets another rate, to see how the latency follows the load.
        double.TryParse(Environment.GetEnvironmentVariable("BENCH_OUTBOUND_RATE"), System.Globalization.CultureInfo.InvariantCulture, out var rate)
            ? rate
            : 100;

    /// <summary>In the hanging phase every 20th purchase is the hanging tenant's, so its deliveries queue behind its 4 slots.</summary>
    private const int HangingShare = 20;

    /// <summary>How long a phase may take to receive every answering tenant's messages after its last purchase.</summary>
    private static readonly TimeSpan OutboundDrainLimit = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Outbound webhooks from the change's commit to the tenant's receiver (issue 17). 1,000
    /// tenants, each with one endpoint on <see cref="WebhookReceiver"/>; signed purchases at a paced
    /// rate, each making one <c>entitlements.updated</c> for its tenant. Two phases: the hanging
    /// tenant gets no purchases, then every 20th purchase is its own; the second is held to the goal.
    /// </summary>
    private async Task OutboundWebhooksAsync()
    {
        await using var receiver = await WebhookReceiver.StartAsync(HangingTenant);
        var tenants = await ListeningTenantsAsync(receiver);
        var run = NewRunId();

        Step($"outbound: warm-up, {OutboundRate:N0} purchases/s over the answering tenants");
        await OutboundPhaseAsync(receiver, tenants, $"{run}w", _settings.Warmup, hanging: false);
        Step($"outbound: {OutboundRate:N0} purchases/s over {tenants.Length - 1:N0} answering tenants, none to the hanging one");
        var calm = await OutboundPhaseAsync(receiver, tenants, $"{run}c", _settings.Measure, hanging: false);
        Step($"outbound: the same, and every {HangingShare}th purchase to the tenant whose endpoint hangs");
        var hanging = await OutboundPhaseAsync(receiver, tenants, $"{run}h", _settings.Measure, hanging: true);

        _report.Details["outbound"] = new
        {
            Tenants = tenants.Length, PurchasesPerSecond = OutboundRate, HangingShare, Calm = calm.Describe(), Hanging = hanging.Describe(),
        };
        const string scenario = "outbound webhooks, 1,000 tenants";
        var p99 = hanging.Tally.Quantile(0.99);
        var missing = calm.Missing + hanging.Missing;
        _report.Add(new ResultRow(scenario, "commit -> 2xx p50, one hanging", hanging.Tally.Quantile(0.50), "ms", "(info)", null, null));
        _report.Add(new ResultRow(scenario, "commit -> 2xx p99, one hanging", p99, "ms", "<= 50 ms", null, p99 <= 50 && hanging.Missing == 0,
            $"{hanging.Tally.Messages:N0} messages, max {hanging.Tally.Quantile(1):0.0} ms; the hanging endpoint held {hanging.Tally.HangingRequests} requests"));
        _report.Add(new ResultRow(scenario, "commit -> 2xx p99, none hanging", calm.Tally.Quantile(0.99), "ms", "(reference)", null, null,
            $"{calm.Tally.Messages:N0} messages, p50 {calm.Tally.Quantile(0.50):0.00} ms, max {calm.Tally.Quantile(1):0.0} ms"));
        _report.Add(new ResultRow(scenario, "messages not received", missing, "", "0", null, missing == 0,
            $"received {calm.Tally.Messages + hanging.Tally.Messages:N0} of {calm.Expected + hanging.Expected:N0} expected"));
    }

    /// <summary>The tenants, through the setup API, a few at a time; tenant i's endpoint is the receiver's <c>/t/i</c>.</summary>
    private async Task<BenchTenant[]> ListeningTenantsAsync(WebhookReceiver receiver)
    {
        Step($"outbound: {OutboundTenantCount:N0} tenants, each with Stripe, a product and a webhook endpoint (tenant {HangingTenant}'s hangs)");
        var start = Stopwatch.GetTimestamp();
        using var http = new HttpClient { BaseAddress = _licenzy.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new("Bearer", _licenzyEnvironment["Licenzy__AdminToken"]);
        var tenants = new BenchTenant[OutboundTenantCount];
        await Parallel.ForAsync(0, tenants.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            tenants[i] = await BenchTenant.CreateListeningAsync(http, $"outbound-{i}", receiver.EndpointUrl(i)));
        Console.WriteLine($"  {tenants.Length:N0} tenants set up in {Since(start).TotalSeconds:0.0} s");
        return tenants;
    }

    /// <summary>
    /// Paced purchases for new subjects for <paramref name="duration"/>, then waits until every
    /// answering tenant's message has arrived (or <see cref="OutboundDrainLimit"/> passed).
    /// </summary>
    private async Task<OutboundPhase> OutboundPhaseAsync(WebhookReceiver receiver, BenchTenant[] tenants, string run, TimeSpan duration,
        bool hanging)
    {
        var tally = receiver.Begin();
        long expected = 0;
        LoadDriver.Plan plan = sequence =>
        {
            var index = hanging && sequence % HangingShare == 0
                ? HangingTenant
                : 1 + (int)((ulong)(sequence * 7919) % (ulong)(tenants.Length - 1));
            return new Planned(tenants[index].Purchase($"evt_out_{run}_{sequence}", $"out_{run}_{sequence}", BenchProducts.Subscription),
                Tag: index);
        };
        LoadDriver.Check check = (in Planned planned, WireResponse response) =>
        {
            // A purchase Licenzy accepted is a message that must arrive, unless it is the hanging tenant's.
            if (response.Status == 200 && planned.Tag != HangingTenant) Interlocked.Increment(ref expected);
            return response.Status == 200;
        };
        var sent = Must(await LoadDriver.PacedAsync(_licenzy.Endpoint, 8, duration, OutboundRate, plan, check), "outbound purchases");

        var drain = Stopwatch.GetTimestamp();
        while (tally.Messages < Interlocked.Read(ref expected) && Since(drain) < OutboundDrainLimit) await Task.Delay(10);
        var phase = new OutboundPhase(tally, Interlocked.Read(ref expected), sent, Since(drain).TotalSeconds);
        if (phase.Missing > 0)
            Console.WriteLine($"  !! {phase.Missing} of {phase.Expected} messages not received {OutboundDrainLimit.TotalSeconds:0} s after the last purchase");
        return phase;
    }

    /// <summary>What one phase sent and what the receiver saw.</summary>
    private sealed record OutboundPhase(DeliveryTally Tally, long Expected, LoadResult Sent, double DrainSeconds)
    {
        public long Missing => Math.Max(0, Expected - Tally.Messages);

        public object Describe() => new
        {
            Purchases = Sent.Completed, PurchaseErrors = Sent.Errors, PurchasesPerSecond = Math.Round(Sent.PerSecond),
            PurchaseP99Ms = Sent.Latency.Quantile(0.99), Expected, Received = Tally.Messages, Tally.Repeats, Tally.Unreadable,
            P50Ms = Tally.Quantile(0.50), P90Ms = Tally.Quantile(0.90), P99Ms = Tally.Quantile(0.99),
            MaxMs = Tally.Quantile(1), FirstTenthMedianMs = Tally.Trend().First, LastTenthMedianMs = Tally.Trend().Last, Tally.HangingRequests, DrainSeconds = Math.Round(DrainSeconds, 2),
        };
    }
}

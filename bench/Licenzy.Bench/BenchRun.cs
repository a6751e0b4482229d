using System.Diagnostics;
using System.Security.Cryptography;
using Licenzy.Bench.Load;

namespace Licenzy.Bench;

/// <summary>
/// One run: the baseline app (which also plays Stripe) and Licenzy on a fresh data directory,
/// a tenant seeded through the public API, then each scenario in turn. Machine-dependent figures
/// are divided by the baseline measured in this same run.
/// </summary>
public sealed partial class BenchRun : IAsyncDisposable
{
    private readonly Settings _settings;
    private readonly Report _report;
    private readonly ChildApp _baseline;
    private readonly string _licenzyDll;
    private readonly Dictionary<string, string> _licenzyEnvironment;
    private ChildApp _licenzy;
    private RssSampler _rss;
    private readonly string _dataPath;
    private BenchTenant _tenant = null!;
    private double _bareThroughput = double.NaN;
    private double _accessThroughput = double.NaN;

    private BenchRun(Settings settings, Report report, ChildApp baseline, ChildApp licenzy, string dataPath,
        string licenzyDll, Dictionary<string, string> licenzyEnvironment)
    {
        _licenzyDll = licenzyDll;
        _licenzyEnvironment = licenzyEnvironment;
        _settings = settings;
        _report = report;
        _baseline = baseline;
        _licenzy = licenzy;
        _dataPath = dataPath;
        _rss = new RssSampler(licenzy);
    }

    /// <summary>The names `--only` takes, in the order they run.</summary>
    public static readonly string[] Scenarios = ["access", "validate", "token", "client", "customer-access", "webhook-allowed", "ingest", "consume", "consume-hot", "outbound", "million", "portal"];

    private string[] Subjects { get; set; } = [];

    private static bool Telemetry => Environment.GetEnvironmentVariable("BENCH_TELEMETRY") == "1";

    public static async Task<BenchRun> StartAsync(string standaloneDll, string baselineDll, Settings settings, Report report)
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "licenzy-bench-" + RandomNumberGenerator.GetHexString(8, lowercase: true));
        Directory.CreateDirectory(dataPath);
        Console.WriteLine($"data directory {dataPath}");

        var baseline = await ChildApp.StartAsync("baseline", baselineDll, new Dictionary<string, string>(),
            Path.Combine(dataPath, "baseline.log"), "/bare");
        try
        {
            var adminToken = "lzadm_bench_" + RandomNumberGenerator.GetHexString(32, lowercase: true);
            var environment = new Dictionary<string, string>
            {
                ["Licenzy__AdminToken"] = adminToken,
                ["Licenzy__Components"] = "Embedded",
                ["Licenzy__DataPath"] = Path.Combine(dataPath, "data"),
                ["Licenzy__Stripe__ApiBase"] = baseline.BaseUrl.ToString().TrimEnd('/'),
                ["Licenzy__Sandbox__Enabled"] = "false",
                // Production refuses webhook URLs on loopback and private networks (SSRF guard); the
                // outbound scenario's receiver is in this process, on 127.0.0.1.
                ["Licenzy__Webhooks__AllowPrivateNetworks"] = "true",
            };
            // BENCH_TELEMETRY=1: OpenTelemetry on, exporting over OTLP/HTTP to the baseline app's sink
            // (metrics every 5 s rather than 60, so a short run exports some).
            if (Telemetry)
            {
                environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = baseline.BaseUrl.ToString().TrimEnd('/');
                environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
                environment["OTEL_METRIC_EXPORT_INTERVAL"] = "5000";
            }
            var licenzy = await ChildApp.StartAsync("licenzy", standaloneDll, environment, Path.Combine(dataPath, "licenzy.log"), "/readyz");
            var run = new BenchRun(settings, report, baseline, licenzy, dataPath, standaloneDll, environment);
            run._tenant = await BenchTenant.CreateAsync(licenzy.BaseUrl, adminToken);
            Console.WriteLine($"baseline pid {baseline.Pid} on :{baseline.Port}; licenzy pid {licenzy.Pid} on :{licenzy.Port}; tenant {run._tenant.TenantId}");
            return run;
        }
        catch
        {
            baseline.Dispose();
            throw;
        }
    }

    public async Task RunAsync()
    {
        _report.Details["settings"] = new
        {
            _settings.Mode, WarmupSeconds = _settings.Warmup.TotalSeconds, MeasureSeconds = _settings.Measure.TotalSeconds,
            _settings.Subjects, _settings.Connections, _settings.LatencySamples, _settings.MillionSubjects,
            SoakMinutes = _settings.Soak.TotalMinutes,
            Telemetry,
        };
        await BaselineAsync();
        await SeedAsync();
        if (_settings.Soak > TimeSpan.Zero)
        {
            await AccessCheckAsync();
            await SoakAsync();
            return;
        }
        if (_settings.Runs("access")) await AccessCheckAsync();
        if (_settings.Runs("validate")) await ValidateLicenseAsync();
        if (_settings.Runs("token")) await AccessTokenAsync();
        if (_settings.Runs("client")) await ClientLibraryAsync();
        if (_settings.Runs("customer-access")) await CustomerAccessAsync();
        if (_settings.Runs("webhook-allowed")) await WebhookToAllowedAsync();
        if (_settings.Runs("ingest")) await WebhookIngestAsync();
        if (_settings.Runs("consume")) await ConsumeAcrossSubjectsAsync();
        if (_settings.Runs("consume-hot")) await ConsumeHotSubjectAsync();
        if (_settings.Runs("outbound")) await OutboundWebhooksAsync();
        if (_settings.MillionSubjects > 0 && _settings.Runs("million")) await MillionSubjectsAsync();
        if (_settings.Runs("portal")) await PortalAsync();
        await BaselineAsync("again");
        _report.ApplyBaseline(_bareThroughput);
        if (Telemetry)
        {
            using var http = new HttpClient { BaseAddress = _baseline.BaseUrl };
            var exports = await http.GetStringAsync("/otlp");
            _report.Details["otlp_exports"] = exports;
            Console.WriteLine($"telemetry on: the OTLP sink received {exports}");
        }
    }

    private static void Step(string what) => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {what}");

    private int Connections => _settings.Connections;

    private LoadResult Must(LoadResult result, string what)
    {
        if (result.Errors > 0)
            Console.WriteLine($"  !! {what}: {result.Errors} errors of {result.Completed}; first: {result.FirstError}");
        return result;
    }

    private object Describe(LoadResult result) => new
    {
        result.Completed, result.Errors, Seconds = Math.Round(result.Seconds, 2), PerSecond = Math.Round(result.PerSecond),
        P50Ms = result.Latency.Quantile(0.50), P90Ms = result.Latency.Quantile(0.90), P99Ms = result.Latency.Quantile(0.99),
        P999Ms = result.Latency.Quantile(0.999), Statuses = result.Statuses.ToDictionary(s => s.Key.ToString(), s => s.Value),
        result.FirstError,
    };

    /// <summary>Closed-loop throughput after a warm-up.</summary>
    private async Task<LoadResult> ThroughputAsync(string name, System.Net.IPEndPoint endpoint, LoadDriver.Plan plan,
        LoadDriver.Check? check = null, bool warm = true)
    {
        if (warm) await LoadDriver.ClosedAsync(endpoint, Connections, _settings.Warmup, plan, check);
        _rss.Reset();
        var result = Must(await LoadDriver.ClosedAsync(endpoint, Connections, _settings.Measure, plan, check), name);
        _report.Details[name] = Describe(result);
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await _rss.DisposeAsync();
        _licenzy.Dispose();
        _baseline.Dispose();
        _report.Details["logs"] = new { licenzy = _licenzy.LogFile, baseline = _baseline.LogFile };
        // BENCH_KEEP_DATA=1 leaves the store for a closer look (e.g. the million subjects).
        if (Environment.GetEnvironmentVariable("BENCH_KEEP_DATA") == "1") return;
        try
        {
            Directory.Delete(Path.Combine(_dataPath, "data"), recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static bool IsOk(in Planned planned, WireResponse response) => response.Status is >= 200 and < 300;

    private static TimeSpan Since(long start) => Stopwatch.GetElapsedTime(start);
}

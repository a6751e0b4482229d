using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Licenzy.Bench;

/// <summary>A child app the bench started; disposing it kills it (and only it).</summary>
public sealed class ChildApp : IDisposable
{
    private readonly Process _process;

    private ChildApp(string name, Process process, int port, string logFile)
    {
        Name = name;
        _process = process;
        Port = port;
        LogFile = logFile;
    }

    public string Name { get; }
    public int Port { get; }
    public string LogFile { get; }
    public int Pid => _process.Id;
    public IPEndPoint Endpoint => new(IPAddress.Loopback, Port);
    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");

    /// <summary>Starts <c>dotnet dll</c> with its output in a log file, and waits until <paramref name="readyPath"/> answers.</summary>
    public static async Task<ChildApp> StartAsync(string name, string dll, IDictionary<string, string> environment,
        string logFile, string readyPath)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", "exec dotnet \"$0\" >\"$1\" 2>&1", dll, logFile },
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var (key, value) in environment) info.Environment[key] = value;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["Urls"] = $"http://127.0.0.1:{port}";
        // For profiling a run with perf: BENCH_PERF_MAP=1 makes the runtime write symbol maps, and
        // maps JIT code once rather than twice (W^X), or perf cannot name the frames.
        if (Environment.GetEnvironmentVariable("BENCH_PERF_MAP") == "1")
        {
            info.Environment["DOTNET_PerfMapEnabled"] = "1";
            info.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {name}.");
        var app = new ChildApp(name, process, port, logFile);
        lock (Running) Running.Add(app);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"{name} exited at start (code {process.ExitCode}); see {logFile}.");
            try
            {
                using var answer = await http.GetAsync(new Uri(app.BaseUrl, readyPath));
                if (answer.IsSuccessStatusCode) return app;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                app.Dispose();
                throw new TimeoutException($"{name} did not become ready in 60 s; see {logFile}.");
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Resident set size in MB, from /proc.</summary>
    public double RssMegabytes()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0]) / 1024.0;
            }
        }
        catch (IOException)
        {
        }
        return double.NaN;
    }

    private static readonly List<ChildApp> Running = [];

    /// <summary>Kills every child still running: for a signal or the time limit.</summary>
    public static void KillAll()
    {
        ChildApp[] running;
        lock (Running) running = [.. Running];
        foreach (var app in running) app.Dispose();
    }

    public void Dispose()
    {
        lock (Running) Running.Remove(this);
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Samples a child's RSS twice a second, for the peak of each scenario and the soak's curve.</summary>
public sealed class RssSampler : IAsyncDisposable, IDisposable
{
    private readonly ChildApp _app;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private double _peak;

    public RssSampler(ChildApp app)
    {
        _app = app;
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var rss = _app.RssMegabytes();
                if (!double.IsNaN(rss)) Peak = Math.Max(Peak, rss);
                try
                {
                    await Task.Delay(500, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
    }

    public double Peak
    {
        get => Volatile.Read(ref _peak);
        private set => Volatile.Write(ref _peak, value);
    }

    /// <summary>Starts a new peak measurement.</summary>
    public void Reset() => Peak = _app.RssMegabytes();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    /// <summary>Stops sampling without waiting for the last sample.</summary>
    public void Dispose() => _stop.Cancel();
}

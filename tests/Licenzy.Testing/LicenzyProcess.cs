using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Licenzy.Testing;

/// <summary>
/// One of Licenzy's apps started as a real process from its build output, so a test can kill it
/// the way a crash would. Its console output is kept, and a test waits on lines it writes rather
/// than on time.
/// </summary>
public sealed class LicenzyProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _errorLines = new();
    private readonly SemaphoreSlim _newLine = new(0);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private LicenzyProcess(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>Everything it wrote, standard output and standard error interleaved.</summary>
    public string Output => string.Join('\n', _lines);

    /// <summary>The lines it wrote to standard error.</summary>
    public IReadOnlyList<string> ErrorLines => [.. _errorLines];

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>
    /// Starts <paramref name="app"/> (Licenzy.Standalone, Licenzy.Api or Licenzy.Ingest) from its
    /// build output with these settings and command-line <paramref name="arguments"/>; returns at
    /// once. A null <paramref name="environment"/> names none, so the app picks its own default.
    /// </summary>
    public static LicenzyProcess Start(string app, string? environment, IReadOnlyDictionary<string, string?> settings, params string[] arguments) =>
        Start(new ProcessStartInfo("dotnet", [BuiltAssembly(app), .. arguments]) { WorkingDirectory = Path.GetTempPath() }, environment, settings);

    /// <summary>
    /// Starts <paramref name="project"/> (a folder under src/) the README's way, with
    /// <c>dotnet run</c> and so with its launch profile, from the build the tests use (--no-build).
    /// </summary>
    public static LicenzyProcess StartWithDotnetRun(string repositoryRoot, string project, string? environment, IReadOnlyDictionary<string, string?> settings)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;
        var start = new ProcessStartInfo("dotnet", ["run", "--no-build", "--configuration", configuration, "--project", Path.Combine("src", project)])
        {
            WorkingDirectory = repositoryRoot,
        };
        return Start(start, environment, settings);
    }

    private static LicenzyProcess Start(ProcessStartInfo start, string? environment, IReadOnlyDictionary<string, string?> settings)
    {
        var port = FreePort();
        var baseUrl = new Uri($"http://127.0.0.1:{port}/");
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        // Only what the test names: not an environment this test run happens to have.
        start.Environment.Remove("DOTNET_ENVIRONMENT");
        start.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        start.Environment.Remove("DOTNET_LAUNCH_PROFILE");
        if (environment is not null) start.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        start.Environment["Urls"] = baseUrl.AbsoluteUri.TrimEnd('/');
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        foreach (var (key, value) in settings) start.Environment[key.Replace(":", "__")] = value;

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var running = new LicenzyProcess(process, baseUrl);
        process.OutputDataReceived += (_, e) => running.Add(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) running._errorLines.Enqueue(e.Data);
            running.Add(e.Data);
        };
        process.Exited += (_, _) => running._exited.TrySetResult();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    /// <summary>Starts it and waits until it says it is listening.</summary>
    public static async Task<LicenzyProcess> StartReadyAsync(string app, string environment, IReadOnlyDictionary<string, string?> settings)
    {
        var process = Start(app, environment, settings);
        await process.WaitForLineAsync("Application started");
        return process;
    }

    /// <summary>Waits for a line containing <paramref name="text"/>, or fails if the process exits or a minute passes.</summary>
    public async Task WaitForLineAsync(string text)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!_lines.Any(line => line.Contains(text, StringComparison.Ordinal)))
        {
            var next = _newLine.WaitAsync(guard.Token);
            if (await Task.WhenAny(next, _exited.Task) == _exited.Task && !_lines.Any(line => line.Contains(text, StringComparison.Ordinal)))
                throw new InvalidOperationException($"the process exited before writing '{text}':\n{Output}");
            try
            {
                await next;
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no line with '{text}' within a minute:\n{Output}");
            }
        }
    }

    public async Task<int> WaitForExitAsync()
    {
        if (await Task.WhenAny(_exited.Task, Task.Delay(TimeSpan.FromMinutes(1))) != _exited.Task)
            throw new TimeoutException($"the process did not exit:\n{Output}");
        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    /// <summary>Ends the process at once, as a crash or SIGKILL would: nothing gets to flush or shut down.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public HttpClient Client(string? bearer = null)
    {
        var client = new HttpClient { BaseAddress = BaseUrl };
        if (bearer is not null) client.DefaultRequestHeaders.Authorization = new("Bearer", bearer);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is null) return;
        _lines.Enqueue(line);
        _newLine.Release();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The app's dll beside this test's own build output (artifacts/bin/&lt;project&gt;/&lt;configuration&gt;).</summary>
    private static string BuiltAssembly(string app)
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var path = Path.Combine(testOutput.Parent!.Parent!.FullName, app, testOutput.Name, app + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"build {app} first; looked for {path}");
    }
}

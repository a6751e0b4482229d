using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Licenzy.Standalone.Tests.Containers;

/// <summary>
/// The repository's Dockerfile (the standalone app), built by the test on base images the engine
/// already holds: the real mcr.microsoft.com/dotnet/sdk:10.0 and aspnet:10.0 where it has them,
/// else the stand-ins tests/containers/build-dotnet-base-images.sh makes without a registry.
/// Built once per test run with the docker CLI (Testcontainers cannot build on this machine's
/// network, which the build's NuGet restore needs here).
/// </summary>
internal static class StandaloneImage
{
    public const string Tag = "licenzy-test/standalone:test";
    public const string DataPath = "/var/lib/licenzy";
    public const int Port = 8080;

    private static readonly (string Sdk, string Runtime)[] BaseImageChoices =
    [
        ("mcr.microsoft.com/dotnet/sdk:10.0", "mcr.microsoft.com/dotnet/aspnet:10.0"),
        ("licenzy-test/sdk:10.0-local", "licenzy-test/aspnet:10.0-local"),
    ];

    private static readonly Lazy<Task<string>> Build = new(BuildAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string RepositoryRoot { get; } =
        typeof(StandaloneImage).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;

    /// <summary>The first pair of base images the engine holds both of, or null.</summary>
    public static (string Sdk, string Runtime)? BaseImages(DockerEngine engine) =>
        BaseImageChoices.Cast<(string Sdk, string Runtime)?>().FirstOrDefault(pair => engine.HasImage(pair!.Value.Sdk) && engine.HasImage(pair.Value.Runtime));

    public static string? WhyNot()
    {
        var engine = DockerEngine.Current;
        if (engine.Unavailable is not null) return engine.Unavailable + "; the image test needs a running Docker engine";
        if (!OnPath("docker")) return "no docker CLI on PATH; the image test builds with it";
        return BaseImages(engine) is null
            ? $"the Docker engine holds neither {BaseImageChoices[0].Sdk} and {BaseImageChoices[0].Runtime} nor their stand-ins " +
              $"{BaseImageChoices[1].Sdk} and {BaseImageChoices[1].Runtime} (the suite pulls nothing: docker pull the first, or build the " +
              "stand-ins with tests/containers/build-dotnet-base-images.sh, which needs root and debootstrap)"
            : null;
    }

    /// <summary>Builds the image (once per run) and returns the build's output.</summary>
    public static Task<string> BuildOnceAsync() => Build.Value;

    /// <summary>Runs the docker CLI; returns its exit code and its output and errors together.</summary>
    public static async Task<(int ExitCode, string Output)> DockerAsync(TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryRoot };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var lines = new object();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lines) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            lock (lines) output.AppendLine($"(docker {arguments[0]} stopped after {timeout.TotalMinutes:0} min)");
            return (-1, output.ToString());
        }
        lock (lines) return (process.ExitCode, output.ToString());
    }

    private static async Task<string> BuildAsync()
    {
        var (sdk, runtime) = BaseImages(DockerEngine.Current) ?? throw new InvalidOperationException(WhyNot());
        // --network host: the build's restore reaches NuGet as this machine does (here, through names only /etc/hosts holds).
        var (exitCode, output) = await DockerAsync(TimeSpan.FromMinutes(15),
            "build", "--network", "host", "--build-arg", $"SDK_IMAGE={sdk}", "--build-arg", $"RUNTIME_IMAGE={runtime}", "-t", Tag, ".");
        if (exitCode != 0) throw new InvalidOperationException($"docker build failed ({exitCode}) on {sdk} and {runtime}:\n{Tail(output)}");
        return output;
    }

    public static string Tail(string text, int lines = 40) => string.Join('\n', text.Split('\n').TakeLast(lines));

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Any(folder => File.Exists(Path.Combine(folder, program)));
}

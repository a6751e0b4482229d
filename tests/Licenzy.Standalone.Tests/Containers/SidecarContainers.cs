using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;
using Licenzy.Testing;
using Testcontainers.Redis;

namespace Licenzy.Standalone.Tests.Containers;

/// <summary>
/// Redis and Dapr placement in containers, one daprd container per app, and Licenzy's Api and
/// Ingest as processes on this machine, configured for Dapr only through the environment a
/// sidecar's app gets (Licenzy__Components=Dapr, DAPR_HTTP_PORT / DAPR_HTTP_ENDPOINT,
/// DAPR_GRPC_PORT / DAPR_GRPC_ENDPOINT, DAPR_API_TOKEN, APP_API_TOKEN).
///
/// Each daprd shares this machine's network (Docker's host networking), as `dapr run` does with
/// a process: it reaches its app on 127.0.0.1:--app-port and its app reaches it on 127.0.0.1, with
/// no port mapping, no host.docker.internal and no app listening beyond loopback. DAPR_HOST_IP
/// keeps what placement hands out (where each actor type lives) on loopback too. Redis and
/// placement stay on Docker's bridge with their ports mapped to this machine at random, which the
/// daprd containers reach on 127.0.0.1 like any local process. The cost: the engine must be on
/// this machine (a Linux engine, not rootless), which is what the suite checks before it runs.
/// </summary>
internal sealed class SidecarContainers : IAsyncDisposable
{
    /// <summary>daprd's working directory in its container; components/local is copied under it.</summary>
    public const string ContainerRoot = "/licenzy";

    public const string AdminToken = "containers-admin-token-0123456789";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    private readonly string _work = Path.Combine(Path.GetTempPath(), "licenzy-containers", Guid.NewGuid().ToString("N"));
    private readonly List<IAsyncDisposable> _started = [];
    private readonly List<SidecarApp> _apps = [];
    private IContainer? _placement;

    private SidecarContainers(RedisContainer redis)
    {
        Redis = redis;
    }

    public RedisContainer Redis { get; }

    /// <summary>Where Redis is reached from this machine, and so from the daprd containers.</summary>
    public string RedisAddress => $"{Redis.Hostname}:{Redis.GetMappedPublicPort(RedisBuilder.RedisPort)}";

    /// <summary>The prepared copy of components/local, as daprd finds it under <see cref="ContainerRoot"/>.</summary>
    public string ComponentsFolder { get; private set; } = "";

    public string DaprApiToken { get; } = Token();

    public string AppApiToken { get; } = Token();

    /// <summary>Starts Redis and writes components/local pointed at it.</summary>
    public static async Task<SidecarContainers> StartRedisAsync()
    {
        var engine = DockerEngine.Current;
        var image = ContainerImages.Redis(engine) ?? throw new InvalidOperationException(ContainerSuite.WhyNotRedis());
        var redis = new RedisBuilder(image).WithImagePullPolicy(PullPolicy.Never).WithLabel("licenzy.test", "containers").Build();
        var containers = new SidecarContainers(redis);
        containers._started.Add(redis);
        try
        {
            using var timeout = new CancellationTokenSource(StartTimeout);
            await redis.StartAsync(timeout.Token);
            containers.ComponentsFolder = LocalComponents.Prepare(containers.HostRoot, containers.RedisAddress);
            return containers;
        }
        catch
        {
            await containers.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A container on this machine's network with the prepared components under
    /// <see cref="ContainerRoot"/>, its working directory: how every daprd is started.
    /// </summary>
    public ContainerBuilder OnThisMachinesNetwork(string image) =>
        new ContainerBuilder(image)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithLabel("licenzy.test", "containers")
            .WithCreateParameterModifier(parameters => (parameters.HostConfig ??= new()).NetworkMode = "host")
            .WithResourceMapping(DirectoryPath.Of(HostRoot), DirectoryPath.Of(ContainerRoot))
            .WithWorkingDirectory(ContainerRoot);

    /// <summary>Starts Dapr placement (needed by the Api's actors), on the bridge with its port mapped.</summary>
    public async Task StartPlacementAsync()
    {
        const int port = 50005;
        var placement = new ContainerBuilder(ContainerImages.Placement)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithLabel("licenzy.test", "containers")
            .WithEntrypoint("/placement")
            .WithCommand("--port", port.ToString())
            .WithPortBinding(port, assignRandomHostPort: true)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilMessageIsLogged("(?i)placement service started on port"))
            .Build();
        _started.Add(placement);
        using var timeout = new CancellationTokenSource(StartTimeout);
        await placement.StartAsync(timeout.Token);
        _placement = placement;
    }

    /// <summary>Starts <paramref name="app"/> (Licenzy.Api or Licenzy.Ingest) with its daprd, and waits until it is ready.</summary>
    public async Task<SidecarApp> StartAppAsync(string app, string appId, IReadOnlyDictionary<string, string?> settings)
    {
        var placement = _placement ?? throw new InvalidOperationException("start placement first");
        int daprHttp = FreePort(), daprGrpc = FreePort(), daprInternal = FreePort();
        var environment = new Dictionary<string, string?>(settings)
        {
            ["Licenzy:Components"] = "Dapr",
            ["Licenzy:AdminToken"] = AdminToken,
            ["Licenzy:DataPath"] = Path.Combine(_work, "data"),
            ["DAPR_HTTP_PORT"] = daprHttp.ToString(),
            ["DAPR_HTTP_ENDPOINT"] = $"http://127.0.0.1:{daprHttp}",
            ["DAPR_GRPC_PORT"] = daprGrpc.ToString(),
            ["DAPR_GRPC_ENDPOINT"] = $"http://127.0.0.1:{daprGrpc}",
            ["DAPR_API_TOKEN"] = DaprApiToken,
            ["APP_API_TOKEN"] = AppApiToken,
            // Every call to the sidecar is logged at Information; a failure's output should show the app's own lines.
            ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
        };
        var process = LicenzyProcess.Start(app, "Production", environment);
        _started.Add(process);

        var daprd = OnThisMachinesNetwork(ContainerImages.Daprd)
            .WithEntrypoint("/daprd")
            .WithCommand(
                "--app-id", appId,
                "--app-port", process.BaseUrl.Port.ToString(),
                "--app-channel-address", "127.0.0.1",
                "--app-protocol", "http",
                "--enable-app-health-check", "--app-health-check-path", "/healthz",
                "--dapr-listen-addresses", "127.0.0.1",
                "--dapr-http-port", daprHttp.ToString(),
                "--dapr-grpc-port", daprGrpc.ToString(),
                "--dapr-internal-grpc-port", daprInternal.ToString(),
                "--enable-metrics=false",
                "--resources-path", $"{ContainerRoot}/{LocalComponents.Folder}",
                "--config", $"{ContainerRoot}/{LocalComponents.Folder}/licenzy-config.yaml",
                "--placement-host-address", $"127.0.0.1:{placement.GetMappedPublicPort(50005)}",
                "--log-level", "info")
            .WithEnvironment("DAPR_API_TOKEN", DaprApiToken)
            .WithEnvironment("APP_API_TOKEN", AppApiToken)
            .WithEnvironment("DAPR_HOST_IP", "127.0.0.1")
            .WithWaitStrategy(Wait.ForUnixContainer().UntilMessageIsLogged("dapr initialized"))
            .Build();
        _started.Add(daprd);
        var started = new SidecarApp(appId, process, daprd);
        _apps.Add(started);
        try
        {
            using var timeout = new CancellationTokenSource(StartTimeout);
            await daprd.StartAsync(timeout.Token);
            await process.WaitForLineAsync("Application started");
            await started.WaitUntilReadyAsync(StartTimeout);
        }
        catch (Exception e) when (e is not SidecarStartException)
        {
            var reason = e.Message.Split('\n')[0];
            throw new SidecarStartException($"{appId} did not start with its daprd: {reason}\n{await DescribeAsync()}", e);
        }
        return started;
    }

    /// <summary>The end of every app's and daprd's output, for a failure message.</summary>
    public async Task<string> DescribeAsync()
    {
        var parts = new List<string>();
        foreach (var app in _apps) parts.Add(await app.DescribeAsync());
        return string.Join("\n", parts);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var started in Enumerable.Reverse(_started))
        {
            try
            {
                await started.DisposeAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // One failed teardown must not leave the rest running.
                Console.Error.WriteLine($"container suite teardown: {e.Message}");
            }
        }
        if (Directory.Exists(_work)) Directory.Delete(_work, recursive: true);
    }

    private string HostRoot => Path.Combine(_work, "sidecar");

    private static string Token() => RandomNumberGenerator.GetHexString(32, lowercase: true);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One of Licenzy's apps with its daprd.</summary>
internal sealed class SidecarApp(string appId, LicenzyProcess process, IContainer daprd)
{
    public string AppId { get; } = appId;

    public HttpClient Client(string? bearer = null) => process.Client(bearer);

    /// <summary>Asks /readyz (which includes the sidecar) until it answers 200, within <paramref name="within"/>.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan within)
    {
        using var client = process.Client();
        using var deadline = new CancellationTokenSource(within);
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        var last = "no answer";
        do
        {
            try
            {
                using var response = await client.GetAsync("/readyz", deadline.Token);
                if (response.StatusCode == HttpStatusCode.OK) return;
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(deadline.Token)}";
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                last = e.Message;
            }
        }
        while (!deadline.IsCancellationRequested && await poll.WaitForNextTickAsync(CancellationToken.None));
        throw new TimeoutException($"{AppId} was not ready within {within.TotalSeconds:0} s (last /readyz: {last})");
    }

    public async Task<string> DescribeAsync()
    {
        string logs;
        try
        {
            var (stdout, stderr) = await daprd.GetLogsAsync(timestampsEnabled: false);
            logs = Tail(stdout + stderr);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logs = $"(no logs: {e.Message})";
        }
        return $"--- {AppId} output:\n{Tail(process.Output)}\n--- {AppId} daprd:\n{logs}";
    }

    private static string Tail(string text, int lines = 40, int width = 400) =>
        string.Join('\n', text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines)
            .Select(line => line.Length <= width ? line : line[..width] + " ..."));
}

internal sealed class SidecarStartException(string message, Exception inner) : Exception(message, inner);

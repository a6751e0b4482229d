using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Licenzy.Standalone.Tests.Containers;

/// <summary>
/// The Docker engine the container suite would use, asked once per test run and quickly (a few
/// seconds at most, even when an engine hangs), before any test starts: whether it answers, and
/// which images it already holds. The suite pulls nothing, so a missing image skips its tests.
/// Asked from the skip attributes' constructors, so it uses synchronous calls with timeouts.
/// </summary>
internal sealed class DockerEngine
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The API version Testcontainers 4.17 asks for unless told otherwise.</summary>
    private static readonly Version TestcontainersDefaultApi = new(1, 44);

    private static readonly Lazy<DockerEngine> Local = new(Probe, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly HttpClient? _client;
    private readonly ConcurrentDictionary<string, bool> _images = new(StringComparer.Ordinal);

    private DockerEngine(string endpoint, HttpClient? client, string? unavailable, Version? apiVersion, bool rootless)
    {
        Endpoint = endpoint;
        _client = client;
        Unavailable = unavailable;
        ApiVersion = apiVersion;
        Rootless = rootless;
    }

    /// <summary>The engine of this run; the first use asks it and sets Testcontainers up for it.</summary>
    public static DockerEngine Current => Local.Value;

    public string Endpoint { get; }

    /// <summary>Why no engine can be used, or null when one answers.</summary>
    public string? Unavailable { get; }

    public Version? ApiVersion { get; }

    /// <summary>A rootless engine's host network is its own namespace, not this machine's loopback.</summary>
    public bool Rootless { get; }

    /// <summary>Whether the engine holds <paramref name="image"/> already (asked once per image).</summary>
    public bool HasImage(string image) =>
        _client is not null && _images.GetOrAdd(image, name =>
        {
            try
            {
                using var response = _client.Send(new HttpRequestMessage(HttpMethod.Get, $"images/{name}/json"));
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                return false;
            }
        });

    /// <summary>Whether the engine still has a container with this id (running or not).</summary>
    public bool HasContainer(string id)
    {
        if (_client is null) return false;
        using var response = _client.Send(new HttpRequestMessage(HttpMethod.Get, $"containers/{id}/json"));
        return response.StatusCode == HttpStatusCode.OK;
    }

    private static DockerEngine Probe()
    {
        var endpoint = EndpointToUse();
        if (endpoint is null)
            return new DockerEngine("none", null, "no Docker engine socket (DOCKER_HOST unset, /var/run/docker.sock missing)", null, false);
        if (!TryClient(endpoint, out var client, out var refusal))
            return new DockerEngine(endpoint, null, refusal, null, false);
        try
        {
            using var version = client.Send(new HttpRequestMessage(HttpMethod.Get, "version"));
            version.EnsureSuccessStatusCode();
            using var versionBody = JsonDocument.Parse(version.Content.ReadAsStream());
            var api = Version.Parse(versionBody.RootElement.GetProperty("ApiVersion").GetString()!);
            using var info = client.Send(new HttpRequestMessage(HttpMethod.Get, "info"));
            using var infoBody = JsonDocument.Parse(info.Content.ReadAsStream());
            var rootless = infoBody.RootElement.TryGetProperty("SecurityOptions", out var options) && options.ValueKind == JsonValueKind.Array &&
                options.EnumerateArray().Any(option => option.GetString()?.Contains("rootless", StringComparison.Ordinal) == true);
            ConfigureTestcontainers(endpoint, api);
            return new DockerEngine(endpoint, client, null, api, rootless);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            client.Dispose();
            var why = e is TaskCanceledException ? $"no answer within {CallTimeout.TotalSeconds:0} s" : e.Message;
            return new DockerEngine(endpoint, null, $"no Docker engine answers at {endpoint} ({why})", null, false);
        }
    }

    /// <summary>DOCKER_HOST, else the usual sockets (rootful, rootless, Docker Desktop on Linux).</summary>
    private static string? EndpointToUse()
    {
        var configured = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (!string.IsNullOrEmpty(configured)) return configured;
        var runtimeDirectory = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        string?[] sockets =
        [
            "/var/run/docker.sock",
            string.IsNullOrEmpty(runtimeDirectory) ? null : Path.Combine(runtimeDirectory, "docker.sock"),
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker", "run", "docker.sock"),
        ];
        var socket = sockets.FirstOrDefault(path => path is not null && File.Exists(path));
        return socket is null ? null : "unix://" + socket;
    }

    private static bool TryClient(string endpoint, out HttpClient client, out string? refusal)
    {
        client = null!;
        refusal = null;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
        {
            refusal = $"DOCKER_HOST is not a URI: {endpoint}";
            return false;
        }
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_TLS_VERIFY")))
        {
            refusal = "the container suite talks to a local engine without TLS, and DOCKER_TLS_VERIFY is set";
            return false;
        }
        SocketsHttpHandler handler;
        Uri baseAddress;
        switch (uri.Scheme)
        {
            case "unix":
                var path = uri.AbsolutePath;
                handler = new SocketsHttpHandler
                {
                    ConnectTimeout = CallTimeout,
                    ConnectCallback = (_, _) =>
                    {
                        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                        try
                        {
                            socket.Connect(new UnixDomainSocketEndPoint(path));
                            return ValueTask.FromResult<Stream>(new NetworkStream(socket, ownsSocket: true));
                        }
                        catch
                        {
                            socket.Dispose();
                            throw;
                        }
                    },
                };
                baseAddress = new Uri("http://docker/");
                break;
            case "tcp" or "http":
                handler = new SocketsHttpHandler { ConnectTimeout = CallTimeout };
                baseAddress = new Uri($"http://{uri.Authority}/");
                break;
            default:
                refusal = $"the container suite needs a Linux Docker engine on this machine; DOCKER_HOST is {endpoint}";
                return false;
        }
        client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = CallTimeout };
        try
        {
            using var ping = client.Send(new HttpRequestMessage(HttpMethod.Get, "_ping"));
            ping.EnsureSuccessStatusCode();
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or SocketException)
        {
            client.Dispose();
            var why = e is TaskCanceledException ? $"no answer within {CallTimeout.TotalSeconds:0} s" : (e.InnerException ?? e).Message;
            refusal = $"no Docker engine answers at {endpoint} ({why})";
            return false;
        }
    }

    /// <summary>
    /// Settings Testcontainers reads once, when its first type is touched, so they are set here
    /// before that, and only where the caller has not set them:
    /// DOCKER_API_VERSION: Testcontainers 4.17 asks for API 1.44, which an older engine (Debian's
    /// docker.io 20.10 speaks 1.41) refuses; the engine's own version is used when it is older.
    /// TESTCONTAINERS_RYUK_DISABLED: the reaper is an image to pull, and the suite pulls nothing;
    /// every container is stopped and removed by the test that started it.
    /// TESTCONTAINERS_HOST_OVERRIDE: the daprd containers share this machine's network, so the
    /// engine is on this machine; where the tests run in a container themselves (/.dockerenv),
    /// Testcontainers would otherwise look for mapped ports on the bridge's gateway.
    /// DOCKER_HOST: the socket found here, so that both agree.
    /// </summary>
    private static void ConfigureTestcontainers(string endpoint, Version engineApi)
    {
        static void Default(string name, string value)
        {
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) Environment.SetEnvironmentVariable(name, value);
        }

        if (engineApi < TestcontainersDefaultApi) Default("DOCKER_API_VERSION", engineApi.ToString(2));
        Default("TESTCONTAINERS_RYUK_DISABLED", "true");
        Default("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1");
        Default("DOCKER_HOST", endpoint);
    }
}

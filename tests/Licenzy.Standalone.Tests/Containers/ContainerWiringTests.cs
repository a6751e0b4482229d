using System.Net.Sockets;
using System.Text;

namespace Licenzy.Standalone.Tests.Containers;

/// <summary>
/// The container suite's own wiring, up to where daprd is needed: it runs wherever there is a
/// Docker engine and a Redis image (tests/containers/build-redis-image.sh makes one without a
/// registry), so it is proven on machines that have no daprd image.
/// </summary>
public sealed class ContainerWiringTests
{
    [Fact]
    public void The_local_components_are_copied_with_every_redis_host_pointed_at_the_test_redis()
    {
        var root = Path.Combine(Path.GetTempPath(), "licenzy-components", Guid.NewGuid().ToString("N"));
        try
        {
            var folder = LocalComponents.Prepare(root, "127.0.0.1:40123");

            var original = Directory.EnumerateFiles(LocalComponents.RepositoryFolder).Select(Path.GetFileName).Order(StringComparer.Ordinal);
            Assert.Equal(original, Directory.EnumerateFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            var hosts = LocalComponents.RedisHosts(folder);
            Assert.Equal(["licenzy-events.yaml", "licenzy-pubsub.yaml", "licenzy-state.yaml"], hosts.Select(host => host.File));
            Assert.All(hosts, host => Assert.Equal("127.0.0.1:40123", host.Value));
            foreach (var file in Directory.EnumerateFiles(folder))
            {
                // Nothing but the Redis address differs, byte for byte.
                var copied = File.ReadAllText(file);
                var source = File.ReadAllText(Path.Combine(LocalComponents.RepositoryFolder, Path.GetFileName(file)));
                Assert.Equal(source, copied.Replace("127.0.0.1:40123", "localhost:6379"));
            }
            // The secrets file is named relative to daprd's working directory, where the copy's root becomes ContainerRoot.
            Assert.True(File.Exists(Path.Combine(root, "components", "local", "secrets.json")));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [RedisContainerFact]
    public async Task Redis_starts_on_a_mapped_port_that_a_container_on_this_machines_network_reaches_and_all_is_removed_after()
    {
        string redisId, sidecarId, redisAddress;
        await using (var containers = await SidecarContainers.StartRedisAsync())
        {
            redisAddress = containers.RedisAddress;
            Assert.StartsWith("127.0.0.1:", redisAddress);
            Assert.Equal("+PONG", await PingAsync(redisAddress));
            Assert.All(LocalComponents.RedisHosts(containers.ComponentsFolder), host => Assert.Equal(redisAddress, host.Value));

            // Started the way each daprd is (this machine's network, the components under its working
            // directory), but from the Redis image and as daprd's non-root user: it reaches Redis at
            // the address the components name, and reads them where daprd is told to look.
            var sidecar = containers.OnThisMachinesNetwork(ContainerImages.Redis(DockerEngine.Current)!)
                .WithCreateParameterModifier(parameters => parameters.User = "65532:65532")
                .WithEntrypoint("sleep", "infinity")
                .Build();
            await using (sidecar)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
                await sidecar.StartAsync(timeout.Token);
                sidecarId = sidecar.Id;
                var (host, port) = (redisAddress.Split(':')[0], redisAddress.Split(':')[1]);
                var ping = await sidecar.ExecAsync(["redis-cli", "-h", host, "-p", port, "ping"], timeout.Token);
                Assert.True(ping.Stdout.Trim() == "PONG", $"redis-cli in the container answered: {ping.Stdout}{ping.Stderr}");
                var secrets = await sidecar.ExecAsync(["cat", $"{LocalComponents.Folder}/secrets.json"], timeout.Token);
                Assert.True(secrets.ExitCode == 0, secrets.Stderr);
                Assert.Equal(File.ReadAllText(Path.Combine(LocalComponents.RepositoryFolder, "secrets.json")), secrets.Stdout);
                var state = await sidecar.ExecAsync(["cat", $"{SidecarContainers.ContainerRoot}/{LocalComponents.Folder}/licenzy-state.yaml"], timeout.Token);
                Assert.Contains($"value: {redisAddress}", state.Stdout);
            }
            redisId = containers.Redis.Id;
            Assert.True(DockerEngine.Current.HasContainer(redisId));
        }

        Assert.False(DockerEngine.Current.HasContainer(redisId), "the Redis container is still there");
        Assert.False(DockerEngine.Current.HasContainer(sidecarId), "the container on this machine's network is still there");
        Assert.True(await RefusedWithinAsync(redisAddress, TimeSpan.FromSeconds(10)), $"{redisAddress} still accepts connections");
    }

    /// <summary>PING in Redis's protocol, over a plain connection; returns the first line of the answer.</summary>
    private static async Task<string> PingAsync(string address)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var client = new TcpClient();
        await client.ConnectAsync(address.Split(':')[0], int.Parse(address.Split(':')[1]), timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
        var buffer = new byte[64];
        var answer = new StringBuilder();
        while (!answer.ToString().Contains("\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0) break;
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return answer.ToString().Split("\r\n")[0];
    }

    private static async Task<bool> RefusedWithinAsync(string address, TimeSpan within)
    {
        using var deadline = new CancellationTokenSource(within);
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        do
        {
            try
            {
                await PingAsync(address);
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                return true;
            }
        }
        while (!deadline.IsCancellationRequested && await poll.WaitForNextTickAsync(CancellationToken.None));
        return false;
    }
}

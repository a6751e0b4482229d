using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;
using DotNet.Testcontainers.Volumes;

namespace Licenzy.Standalone.Tests.Containers;

/// <summary>
/// The repository's Dockerfile, built and run: the standalone app in one container, as its own
/// non-root user, with all its state in the data volume. Built on the real .NET images where the
/// engine holds them, else on the stand-ins (tests/containers/build-dotnet-base-images.sh).
/// </summary>
public sealed class StandaloneImageTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    [StandaloneImageFact]
    public async Task The_image_runs_as_uid_1654_on_port_8080_and_keeps_tenants_and_keys_in_its_volume_across_a_restart_and_a_new_container()
    {
        await StandaloneImage.BuildOnceAsync();
        var adminToken = "lzadm_" + RandomNumberGenerator.GetHexString(40, lowercase: true);
        var volume = new VolumeBuilder().WithName($"licenzy-test-data-{Guid.NewGuid():N}").WithLabel("licenzy.test", "containers").Build();
        await volume.CreateAsync();
        try
        {
            string tenant, key;
            var first = Container(volume, adminToken);
            await using (first)
            {
                using var timeout = new CancellationTokenSource(StartTimeout);
                await first.StartAsync(timeout.Token);

                // The process itself (PID 1), not only what `docker exec` would run as.
                var status = await first.ExecAsync(["cat", "/proc/1/status"], timeout.Token);
                Assert.Contains("Uid:\t1654\t1654\t1654\t1654", status.Stdout);
                Assert.Contains("Gid:\t1654\t1654\t1654\t1654", status.Stdout);
                // The image's HEALTHCHECK command, run by hand: the app's own probe of /readyz.
                var probe = await first.ExecAsync(["dotnet", "Licenzy.Standalone.dll", "healthcheck", $"http://127.0.0.1:{StandaloneImage.Port}/readyz"], timeout.Token);
                Assert.True(probe.ExitCode == 0, $"healthcheck exited {probe.ExitCode}: {probe.Stderr}");
                var files = await first.ExecAsync(["ls", StandaloneImage.DataPath], timeout.Token);
                Assert.Equal(["keys", "licenzy.db", "licenzy.db-shm", "licenzy.db-wal", "outbox-owners"], files.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));

                using (var api = Client(first, adminToken))
                {
                    tenant = await CreateTenantAsync(api);
                    key = await CreateApiKeyAsync(api, tenant);
                    await AssertKnownAsync(api, tenant, key);
                }

                // docker restart: the same container, its volume, the app started afresh.
                await first.StopAsync(timeout.Token);
                await first.StartAsync(timeout.Token);
                using (var api = Client(first, adminToken))
                {
                    await WaitUntilReadyAsync(api, timeout.Token);
                    await AssertKnownAsync(api, tenant, key);
                }
            }

            // A new container on the same volume (an upgrade does this): the tenant and its key are still there.
            var second = Container(volume, adminToken);
            await using (second)
            {
                using var timeout = new CancellationTokenSource(StartTimeout);
                await second.StartAsync(timeout.Token);
                using var api = Client(second, adminToken);
                await AssertKnownAsync(api, tenant, key);
                using var unknown = await api.GetAsync($"/v1/admin/tenants/ten_unknown/modes/test/products");
                Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            }
        }
        finally
        {
            await volume.DeleteAsync();
        }
    }

    [StandaloneImageFact]
    public async Task The_image_holds_no_admin_token_and_refuses_to_start_without_one()
    {
        await StandaloneImage.BuildOnceAsync();

        var (exitCode, config) = await StandaloneImage.DockerAsync(TimeSpan.FromMinutes(1), "image", "inspect", "--format", "{{json .Config}}", StandaloneImage.Tag);
        Assert.True(exitCode == 0, config);
        using var json = JsonDocument.Parse(config);
        var root = json.RootElement;
        Assert.Equal("1654:1654", root.GetProperty("User").GetString());
        Assert.True(root.GetProperty("Volumes").TryGetProperty(StandaloneImage.DataPath, out _), config);
        Assert.True(root.GetProperty("ExposedPorts").TryGetProperty($"{StandaloneImage.Port}/tcp", out _), config);
        Assert.Equal(["CMD", "dotnet", "Licenzy.Standalone.dll", "healthcheck", $"http://127.0.0.1:{StandaloneImage.Port}/readyz"],
            root.GetProperty("Healthcheck").GetProperty("Test").EnumerateArray().Select(part => part.GetString()));
        var environment = root.GetProperty("Env").EnumerateArray().Select(variable => variable.GetString()!).ToList();
        Assert.Contains($"Licenzy__DataPath={StandaloneImage.DataPath}", environment);
        Assert.DoesNotContain(environment, variable => variable.StartsWith("Licenzy__AdminToken", StringComparison.OrdinalIgnoreCase));

        // Production is the published app's default: no token, no start, and a line that says why.
        var (runExit, output) = await StandaloneImage.DockerAsync(TimeSpan.FromMinutes(1), "run", "--rm", "--label", "licenzy.test=containers", StandaloneImage.Tag);
        Assert.True(runExit == 1, $"exit code {runExit}:\n{StandaloneImage.Tail(output)}");
        Assert.Contains("Licenzy:AdminToken is not set", output);
    }

    private static IContainer Container(IVolume volume, string adminToken) =>
        new ContainerBuilder(StandaloneImage.Tag)
            .WithImagePullPolicy(PullPolicy.Never)
            .WithLabel("licenzy.test", "containers")
            .WithEnvironment("Licenzy__AdminToken", adminToken)
            .WithVolumeMount(volume, StandaloneImage.DataPath)
            .WithPortBinding(StandaloneImage.Port, assignRandomHostPort: true)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(request => request.ForPort(StandaloneImage.Port).ForPath("/readyz")))
            .Build();

    private static HttpClient Client(IContainer container, string adminToken) => new()
    {
        BaseAddress = new Uri($"http://{container.Hostname}:{container.GetMappedPublicPort(StandaloneImage.Port)}"),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", adminToken) },
        Timeout = TimeSpan.FromSeconds(30),
    };

    private static async Task<string> CreateTenantAsync(HttpClient api)
    {
        using var response = await api.PostAsJsonAsync("/v1/admin/tenants", new { name = "Acme in a container" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant_id").GetString()!;
    }

    private static async Task<string> CreateApiKeyAsync(HttpClient api, string tenant)
    {
        using var response = await api.PostAsJsonAsync($"/v1/admin/tenants/{tenant}/modes/test/api-keys", new { name = "backend" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    /// <summary>The setup API knows the tenant, and the runtime key (kept only as its hash) is accepted.</summary>
    private static async Task AssertKnownAsync(HttpClient api, string tenant, string key)
    {
        using var products = await api.GetAsync($"/v1/admin/tenants/{tenant}/modes/test/products");
        Assert.True(products.StatusCode == HttpStatusCode.OK, await products.Content.ReadAsStringAsync());
        using var check = new HttpRequestMessage(HttpMethod.Post, "/v1/access/check") { Content = JsonContent.Create(new { subject_ref = "user_1" }) };
        check.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var answer = await api.SendAsync(check);
        Assert.True(answer.StatusCode == HttpStatusCode.OK, await answer.Content.ReadAsStringAsync());
        Assert.False((await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("allowed").GetBoolean());
    }

    private static async Task WaitUntilReadyAsync(HttpClient api, CancellationToken cancellation)
    {
        while (true)
        {
            try
            {
                using var ready = await api.GetAsync("/readyz", cancellation);
                if (ready.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200, cancellation);
        }
    }
}

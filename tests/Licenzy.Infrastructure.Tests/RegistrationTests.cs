using Licenzy.Infrastructure.Embedded;
using Licenzy.Infrastructure.PubSub;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Tests;

public sealed class RegistrationTests : IDisposable
{
    private readonly TempDataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static Dictionary<string, string?> Settings(string key, string value) => new() { [key] = value };

    [Fact]
    public void The_defaults_are_embedded_components_in_a_data_folder()
    {
        var services = new ServiceCollection();
        services.AddLicenzyComponents(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<ComponentsOptions>>().Value;
        Assert.Equal(ComponentsBinding.Embedded, options.Components);
        Assert.Equal("./data", options.DataPath);
        Assert.Equal(TimeSpan.FromSeconds(30), provider.GetRequiredService<IOptions<OutboxOptions>>().Value.LeaseDuration);
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public async Task The_dapr_binding_without_a_sidecar_refuses_to_start_and_says_why()
    {
        using var host = TestHost.Build(_folder, settings: new Dictionary<string, string?>
        {
            ["Licenzy:Components"] = "Dapr",
            ["Licenzy:Dapr:HttpEndpoint"] = "http://127.0.0.1:1",
            ["Licenzy:Dapr:SidecarWaitTimeout"] = "00:00:00.200",
        });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("Dapr sidecar", error.Message);
        Assert.Contains("Licenzy:Dapr:SidecarWaitTimeout", error.Message);
    }

    [Fact]
    public async Task An_empty_data_path_refuses_to_start_and_names_the_key()
    {
        using var host = TestHost.Build(_folder, settings: Settings("Licenzy:DataPath", " "));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Licenzy:DataPath", error.Message);
    }

    [Fact]
    public async Task An_unknown_binding_refuses_to_start_and_names_the_key()
    {
        using var host = TestHost.Build(_folder, settings: Settings("Licenzy:Components", "Redis"));

        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("Licenzy:Components", error.Message);
    }

    [Fact]
    public async Task Bad_outbox_settings_refuse_to_start_and_name_the_key()
    {
        using var host = TestHost.Build(_folder, settings: Settings("Licenzy:Outbox:MaxAttempts", "0"));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Licenzy:Outbox:MaxAttempts", error.Message);
    }

    [Fact]
    public async Task A_data_path_that_cannot_hold_the_file_refuses_to_start_and_names_the_key()
    {
        Directory.CreateDirectory(_folder.Path);
        var notAFolder = Path.Combine(_folder.Path, "occupied");
        await File.WriteAllTextAsync(notAFolder, "a file where the folder should be");
        using var host = TestHost.Build(_folder, settings: Settings("Licenzy:DataPath", notAFolder));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("Licenzy:DataPath", error.Message);
    }

    [Fact]
    public async Task Start_creates_the_file_in_wal_mode_with_full_sync()
    {
        using var host = TestHost.Build(_folder, settings: Settings("Licenzy:DataPath", Path.Combine(_folder.Path, "a", "b")));
        await host.StartAsync();
        var database = host.Services.GetRequiredService<SqliteDatabase>();
        var synchronous = await database.ReadAsync(async (connection, token) =>
        {
            await using var command = connection.Command("PRAGMA synchronous;");
            return (long)(await command.ExecuteScalarAsync(token))!;
        }, default);
        await host.StopAsync();

        Assert.Equal(Path.Combine(_folder.Path, "a", "b", "licenzy.db"), database.FilePath);
        Assert.True(File.Exists(database.FilePath));
        Assert.Equal(2L, synchronous); // FULL
        var journal = await database.ReadAsync(async (connection, token) =>
        {
            await using var command = connection.Command("PRAGMA journal_mode;");
            return (string)(await command.ExecuteScalarAsync(token))!;
        }, default);
        Assert.Equal("wal", journal);
    }

    [Fact]
    public async Task Registering_twice_registers_everything_once()
    {
        var probe = new Probe<MainTopic>();
        using var host = TestHost.Build(_folder, services: s =>
        {
            s.AddLicenzyComponents(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
            s.AddProbe(probe).AddSubscriber<ProbeSubscriber<MainTopic>>();
            s.AddActor<INoActor, NoActor>("nothing", (_, _) => throw new NotSupportedException())
                .AddActor<INoActor, NoActor>("nothing", (_, _) => throw new NotSupportedException());
        });

        Assert.Single(host.Services.GetServices<IHostedService>().OfType<OutboxDispatcher>());
        Assert.Single(host.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations,
            registration => registration.Name == "components");
        using (var scope = host.Services.CreateScope())
            Assert.Single(scope.ServiceProvider.GetServices<ISubscriber>());
        Assert.Single(host.Services.GetServices<Actors.ActorRegistration>());

        await host.StartAsync();
        await host.StopAsync();
    }

    [Fact]
    public void One_actor_type_cannot_have_two_implementations()
    {
        var services = new ServiceCollection().AddActor<INoActor, NoActor>("nothing", (_, _) => throw new NotSupportedException());
        var error = Assert.Throws<InvalidOperationException>(() =>
            services.AddActor<INoActor, OtherActor>("nothing", (_, _) => throw new NotSupportedException()));
        Assert.Contains("'nothing'", error.Message);
    }

    [Fact]
    public async Task Two_subscribers_for_one_topic_refuse_to_start()
    {
        using var host = TestHost.Build(_folder, services: s => s
            .AddProbe(new Probe<MainTopic> { Topic = "same" })
            .AddProbe(new Probe<DeadLetterTopic> { Topic = "same" }));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("'same'", error.Message);
    }

    [Fact]
    public async Task The_health_check_reports_the_file_answering()
    {
        using var host = await TestHost.StartAsync(_folder);
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        await host.StopAsync();

        Assert.Equal(HealthStatus.Healthy, report.Entries["components"].Status);
    }

    public interface INoActor : global::Dapr.Actors.IActor
    {
        Task NothingAsync();
    }

    private sealed class NoActor(global::Dapr.Actors.Runtime.ActorHost host) : global::Dapr.Actors.Runtime.Actor(host), INoActor
    {
        public Task NothingAsync() => Task.CompletedTask;
    }

    private sealed class OtherActor(global::Dapr.Actors.Runtime.ActorHost host) : global::Dapr.Actors.Runtime.Actor(host), INoActor
    {
        public Task NothingAsync() => Task.CompletedTask;
    }
}

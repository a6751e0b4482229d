using System.Collections.Concurrent;
using System.Threading.Channels;
using Licenzy.Infrastructure.PubSub;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Licenzy.Infrastructure.Tests;

/// <summary>A data folder of the test's own, removed afterwards.</summary>
public sealed class TempDataFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));

    public string DatabaseFile => System.IO.Path.Combine(Path, "licenzy.db");

    /// <summary>Runs a query straight on the file, bypassing the components (to look at what they stored).</summary>
    public async Task<T> QueryAsync<T>(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={DatabaseFile};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        // Pooled connections keep the file open; let go of them before deleting it.
        SqliteConnection.ClearAllPools();
        try
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder must not fail a test.
        }
    }
}

/// <summary>Composes a host the way an app does: AddLicenzyComponents plus whatever the test adds.</summary>
public static class TestHost
{
    public static IHost Build(TempDataFolder folder, TimeProvider? clock = null,
        Action<IServiceCollection>? services = null, IDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Licenzy:DataPath"] = folder.Path,
        });
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        if (clock is not null) builder.Services.AddSingleton(clock);
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddLicenzyComponents(builder.Configuration);
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    public static async Task<IHost> StartAsync(TempDataFolder folder, TimeProvider? clock = null,
        Action<IServiceCollection>? services = null, IDictionary<string, string?>? settings = null)
    {
        var host = Build(folder, clock, services, settings);
        await host.StartAsync();
        return host;
    }
}

/// <summary>Guards against a hang: a test that waits longer than this has failed.</summary>
public static class Guard
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
}

/// <summary>Tells <see cref="ProbeSubscriber{TTag}"/> apart by type, so one host can have several.</summary>
public sealed class MainTopic;

public sealed class DeadLetterTopic;

/// <summary>One delivery as the subscriber saw it, stamped with the host's clock.</summary>
public sealed record Delivery(Message Message, DateTimeOffset At);

/// <summary>
/// What a <see cref="ProbeSubscriber{TTag}"/> does and saw: its topic, its answer to each
/// message, and every delivery (readable in order by the test).
/// </summary>
public sealed class Probe<TTag>
{
    private readonly Channel<Delivery> _deliveries = Channel.CreateUnbounded<Delivery>();

    public string Topic { get; init; } = "test-orders";

    public string? DeadLetterTopic { get; init; }

    public Func<Message, DeliveryResult> Answer { get; set; } = _ => DeliveryResult.Success;

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    internal DeliveryResult Record(Message message)
    {
        _deliveries.Writer.TryWrite(new Delivery(message, Clock.GetUtcNow()));
        return Answer(message);
    }

    /// <summary>The next delivery, in the order they happened.</summary>
    public Task<Delivery> NextAsync() => _deliveries.Reader.ReadAsync().AsTask().WaitAsync(Guard.Timeout);

    public bool TryTakeDelivery(out Delivery? delivery) => _deliveries.Reader.TryRead(out delivery);
}

public sealed class ProbeSubscriber<TTag>(Probe<TTag> probe) : ISubscriber
{
    public string Topic => probe.Topic;

    public string? DeadLetterTopic => probe.DeadLetterTopic;

    public Task<DeliveryResult> HandleAsync(Message message, CancellationToken cancellationToken) =>
        Task.FromResult(probe.Record(message));
}

public static class ProbeRegistration
{
    public static IServiceCollection AddProbe<TTag>(this IServiceCollection services, Probe<TTag> probe)
    {
        services.AddSingleton(probe);
        return services.AddSubscriber<ProbeSubscriber<TTag>>();
    }
}

/// <summary>Counts deliveries per message id across hosts, and says when all expected ids arrived.</summary>
public sealed class DeliveryTally(int expected)
{
    private readonly ConcurrentDictionary<string, int> _counts = new();
    private readonly TaskCompletionSource _allSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyDictionary<string, int> Counts => _counts;

    public Task AllSeen => _allSeen.Task;

    public void Add(string messageId)
    {
        _counts.AddOrUpdate(messageId, 1, (_, count) => count + 1);
        if (_counts.Count >= expected) _allSeen.TrySetResult();
    }
}

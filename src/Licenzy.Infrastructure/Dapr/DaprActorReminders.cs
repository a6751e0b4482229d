using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Licenzy.Infrastructure.Actors;
using Microsoft.Extensions.Options;
using Proto = Dapr.Client.Autogen.Grpc.v1;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>
/// Actor reminders through the sidecar's gRPC API (<c>RegisterActorReminder</c>,
/// <c>UnregisterActorReminder</c>), with the client generated from Dapr's protos. The SDK offers
/// reminders only to an actor about itself, inside one of its turns; Licenzy registers them for
/// work it is about to commit, from wherever that commit is made.
/// </summary>
internal sealed class DaprActorReminders : IActorReminders, IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Proto.Dapr.DaprClient _client;
    private readonly Metadata _headers = [];
    private readonly TimeSpan _timeout;

    public DaprActorReminders(IOptions<DaprOptions> options)
    {
        var dapr = options.Value;
        _channel = GrpcChannel.ForAddress(dapr.GrpcEndpoint!, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) },
        });
        _client = new Proto.Dapr.DaprClient(_channel);
        if (dapr.ApiToken is { } token) _headers.Add("dapr-api-token", token);
        _timeout = dapr.CallTimeout;
    }

    public async Task RegisterAsync(string actorType, string actorId, string name, TimeSpan dueTime, TimeSpan period,
        CancellationToken cancellationToken)
    {
        await _client.RegisterActorReminderAsync(new Proto.RegisterActorReminderRequest
        {
            ActorType = actorType, ActorId = actorId, Name = name,
            DueTime = Duration(dueTime < TimeSpan.Zero ? TimeSpan.Zero : dueTime), Period = Duration(period),
        }, _headers, DateTime.UtcNow + _timeout, cancellationToken);
    }

    public async Task UnregisterAsync(string actorType, string actorId, string name, CancellationToken cancellationToken)
    {
        await _client.UnregisterActorReminderAsync(new Proto.UnregisterActorReminderRequest
        {
            ActorType = actorType, ActorId = actorId, Name = name,
        }, _headers, DateTime.UtcNow + _timeout, cancellationToken);
    }

    /// <summary>
    /// The form the Dapr SDK writes and reads back in reminder callbacks ("1h2m3s4ms"); daprd reads
    /// it as a Go duration.
    /// </summary>
    internal static string Duration(TimeSpan value) => string.Create(CultureInfo.InvariantCulture,
        $"{(long)value.TotalHours}h{value.Minutes}m{value.Seconds}s{value.Milliseconds}ms");

    public void Dispose() => _channel.Dispose();
}

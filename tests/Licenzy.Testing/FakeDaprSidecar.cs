using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Proto = Dapr.Client.Autogen.Grpc.v1;

namespace Licenzy.Testing;

/// <summary>
/// A test double of Dapr: the sidecar APIs the Dapr .NET SDK calls (the runtime's gRPC service for
/// state, transactions and publish; HTTP for health and actor calls), in front of a store, a broker
/// and actor placement shared by any number of app replicas. It models what daprd guarantees and no
/// more: ETag and first-write checks (a stale ETag on a single save or delete is gRPC
/// <c>Aborted</c>; a refused transaction is <c>Internal</c> with daprd's "possible etag mismatch"),
/// a transactional outbox on the event store, at-least-once delivery to one replica of each
/// subscribing app (SUCCESS / RETRY / DROP, retries backing off on the given clock, then the
/// dead-letter topic), each actor id placed on exactly one replica that hosts its type, with one
/// turn at a time per id, a turn in flight finishing before its id moves, and actor reminders kept
/// by the sidecar and fired on its clock as turns of their actors. There is no daprd here.
/// </summary>
public sealed class FakeDaprSidecar : IAsyncDisposable
{
    public const string TokenHeader = "dapr-api-token";

    private readonly Lock _gate = new();
    // ExpiresAt: from the write's ttlInSeconds, on the sidecar's clock; past it the key is as if absent.
    private readonly Dictionary<(string Store, string Key), (byte[] Value, long ETag, DateTimeOffset? ExpiresAt)> _state = new();
    private readonly Channel<Delivery> _queue = Channel.CreateUnbounded<Delivery>();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _turns = new();
    private readonly List<Replica> _replicas = [];
    private readonly CancellationTokenSource _stop = new();
    private WebApplication _web = null!;
    private Task _delivery = Task.CompletedTask;
    private readonly Dictionary<(string Type, string Id, string Name), Reminder> _reminders = new();
    private readonly Channel<bool> _remindersChanged =
        Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private Task _reminding = Task.CompletedTask;
    private long _nextETag;
    private int _refused;
    private bool _failTransactions;

    private FakeDaprSidecar(TimeProvider clock) => Clock = clock;

    public TimeProvider Clock { get; }

    /// <summary>The HTTP API (health, actors): what <c>DAPR_HTTP_ENDPOINT</c> names.</summary>
    public Uri HttpEndpoint { get; private set; } = null!;

    /// <summary>The gRPC API (state, pub/sub): what <c>DAPR_GRPC_ENDPOINT</c> names.</summary>
    public Uri GrpcEndpoint { get; private set; } = null!;

    /// <summary>The event store's outbox: a committed write to the store publishes the value to the topic.</summary>
    public Dictionary<string, string> OutboxTopics { get; } = new() { ["licenzy-events"] = "billing-events" };

    /// <summary>The token apps must send (<c>DAPR_API_TOKEN</c>); null to accept any call.</summary>
    public string? ApiToken { get; set; }

    /// <summary>The token sent to apps (<c>APP_API_TOKEN</c>); null to send none.</summary>
    public string? AppApiToken { get; set; }

    /// <summary>Calls from apps without a valid token, refused.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Deliveries of one message before it goes to the dead-letter topic (the resiliency policy's retries).</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>While true, every state transaction fails with <c>Internal</c>, as when the store behind the sidecar is down.</summary>
    public bool FailTransactions
    {
        get => Volatile.Read(ref _failTransactions);
        set => Volatile.Write(ref _failTransactions, value);
    }

    public static async Task<FakeDaprSidecar> StartAsync(TimeProvider clock)
    {
        var sidecar = new FakeDaprSidecar(clock);
        var builder = WebApplication.CreateSlimBuilder();
        ListenOptions? http = null, grpc = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => (http = listen).Protocols = HttpProtocols.Http1);
            // gRPC without TLS needs an HTTP/2-only port (h2c with prior knowledge).
            kestrel.Listen(IPAddress.Loopback, 0, listen => (grpc = listen).Protocols = HttpProtocols.Http2);
        });
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(sidecar);
        builder.Services.AddSingleton<DaprRuntime>();
        builder.Services.AddSingleton<Grpc.AspNetCore.Server.Model.IServiceMethodProvider<DaprRuntime>, DaprRuntime.Methods>();
        var web = builder.Build();
        sidecar.Map(web);
        await web.StartAsync();
        sidecar._web = web;
        sidecar.HttpEndpoint = new Uri($"http://127.0.0.1:{http!.IPEndPoint!.Port}");
        sidecar.GrpcEndpoint = new Uri($"http://127.0.0.1:{grpc!.IPEndPoint!.Port}");
        sidecar._delivery = Task.Run(sidecar.DeliverAllAsync);
        sidecar._reminding = Task.Run(sidecar.RemindAllAsync);
        return sidecar;
    }

    /// <summary>The settings that point a Licenzy app at this sidecar, with the tokens both ways.</summary>
    public IEnumerable<KeyValuePair<string, string?>> AppSettings()
    {
        yield return new("Licenzy:Components", "Dapr");
        yield return new("Licenzy:Dapr:HttpEndpoint", HttpEndpoint.AbsoluteUri);
        yield return new("Licenzy:Dapr:GrpcEndpoint", GrpcEndpoint.AbsoluteUri);
        if (ApiToken is not null) yield return new("Licenzy:Dapr:ApiToken", ApiToken);
        if (AppApiToken is not null) yield return new("Licenzy:Dapr:AppApiToken", AppApiToken);
    }

    /// <summary>
    /// Puts a replica of app <paramref name="appId"/> behind the sidecar, reached with
    /// <paramref name="client"/>. Its subscriptions and actor types are read from it on first use.
    /// </summary>
    public Replica AddReplica(string appId, string name, Func<HttpClient> client)
    {
        var replica = new Replica(this, appId, name, client);
        lock (_gate) _replicas.Add(replica);
        return replica;
    }

    /// <summary>
    /// Takes a replica out: no new delivery or actor turn goes to it; its actors are placed on the
    /// replicas left (a turn already running on it holds its actor until it ends, as daprd drains).
    /// </summary>
    public void RemoveReplica(Replica replica)
    {
        lock (_gate) _replicas.Remove(replica);
    }

    /// <summary>When the store forgets the key (null: never), or null when there is no such key.</summary>
    /// <summary>Every stored item as "store|key|etag", for tests that assert nothing was written.</summary>
    public IReadOnlyList<string> Snapshot()
    {
        lock (_gate) return _state.Select(entry => $"{entry.Key.Store}|{entry.Key.Key}|{entry.Value.ETag}").Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The stored value of a key as text, or null when there is none.</summary>
    public string? ValueOf(string store, string key)
    {
        lock (_gate) return _state.TryGetValue((store, key), out var entry) ? System.Text.Encoding.UTF8.GetString(entry.Value) : null;
    }

    public DateTimeOffset? ExpiryOf(string store, string key)
    {
        lock (_gate) return _state.TryGetValue((store, key), out var entry) ? entry.ExpiresAt : null;
    }

    /// <summary>The replica an actor id is placed on now, by name.</summary>
    public async Task<string?> PlacementOfAsync(string actorType, string actorId) => (await PlaceAsync(actorType, actorId))?.Name;

    private void Map(WebApplication web)
    {
        // The SDK's actor client writes the endpoint with a trailing slash and appends "/v1.0/...".
        web.Use((context, next) =>
        {
            if (context.Request.Path.Value is { } path && path.StartsWith("//", StringComparison.Ordinal))
                context.Request.Path = path[1..];
            return next(context);
        });
        web.Use(async (context, next) =>
        {
            if (!Authorized(context.Request.Headers[TokenHeader]))
            {
                if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
                {
                    // gRPC answers 200 with the status in trailers; the middleware below lets Grpc.AspNetCore do that.
                    context.Items[nameof(Unauthenticated)] = true;
                }
                else
                {
                    context.Response.StatusCode = 401;
                    return;
                }
            }
            await next(context);
        });
        web.MapGrpcService<DaprRuntime>();
        web.MapGet("/v1.0/healthz", () => Results.NoContent());
        web.MapGet("/v1.0/healthz/outbound", () => Results.NoContent());
        web.MapMethods("/v1.0/actors/{type}/{id}/method/{method}", ["PUT", "POST"],
            (string type, string id, string method, HttpRequest request) => CallActorAsync(type, id, method, request));
    }

    private const string Unauthenticated = "unauthenticated";

    private bool Authorized(string? token)
    {
        if (ApiToken is null || token == ApiToken) return true;
        Interlocked.Increment(ref _refused);
        return false;
    }

    // --- state -------------------------------------------------------------------------------

    private Proto.GetStateResponse GetState(Proto.GetStateRequest request)
    {
        lock (_gate)
        {
            if (!TryGetLive(request.StoreName, request.Key, out var entry)) return new Proto.GetStateResponse();
            return new Proto.GetStateResponse
            {
                Data = ByteString.CopyFrom(entry.Value),
                Etag = entry.ETag.ToString(CultureInfo.InvariantCulture),
            };
        }
    }

    /// <summary>Single saves and deletes: a refused ETag is <c>Aborted</c>, as daprd answers it.</summary>
    private void Save(string store, IEnumerable<Proto.StateItem> items)
    {
        var operations = items.Select(item => new Operation("upsert", item)).ToList();
        if (!TryCommit(store, operations, out var conflict))
            throw new RpcException(new Status(StatusCode.Aborted, $"failed saving state in state store {store}: possible etag mismatch. error from state store: {conflict}"));
    }

    private void Delete(Proto.DeleteStateRequest request)
    {
        var item = new Proto.StateItem { Key = request.Key, Etag = request.Etag, Options = request.Options };
        if (!TryCommit(request.StoreName, [new Operation("delete", item)], out var conflict))
            throw new RpcException(new Status(StatusCode.Aborted, $"failed deleting state with key {request.Key}: possible etag mismatch. error from state store: {conflict}"));
    }

    /// <summary>A transaction: all or nothing; refused, daprd answers <c>Internal</c> with the store's "possible etag mismatch".</summary>
    private void Transact(Proto.ExecuteStateTransactionRequest request, string? traceParent = null)
    {
        if (FailTransactions)
            throw new RpcException(new Status(StatusCode.Internal, "error while executing state transaction: the store is down (test)"));
        var operations = request.Operations.Select(o => new Operation(o.OperationType, o.Request)).ToList();
        if (!TryCommit(request.StoreName, operations, out var conflict, traceParent))
            throw new RpcException(new Status(StatusCode.Internal, $"error while executing state transaction: possible etag mismatch. error from state store: {conflict}"));
    }

    private sealed record Operation(string Type, Proto.StateItem Item);

    /// <summary>Checks every operation's ETag or first-write first, then writes them all and publishes the outbox's part.</summary>
    private bool TryCommit(string store, List<Operation> operations, out string conflict, string? traceParent = null)
    {
        var published = new List<Delivery>();
        lock (_gate)
        {
            foreach (var (type, item) in operations)
            {
                var etag = item.Etag?.Value;
                var firstWrite = item.Options?.Concurrency == Proto.StateOptions.Types.StateConcurrency.ConcurrencyFirstWrite;
                var exists = TryGetLive(store, item.Key, out var current);
                if (!string.IsNullOrEmpty(etag) && (!exists || current.ETag.ToString(CultureInfo.InvariantCulture) != etag))
                {
                    conflict = $"key {item.Key}: etag {etag} is not the stored one";
                    return false;
                }
                if (string.IsNullOrEmpty(etag) && firstWrite && type == "upsert" && exists)
                {
                    conflict = $"key {item.Key} exists and the first-write has no etag";
                    return false;
                }
            }
            foreach (var (type, item) in operations)
            {
                if (type == "delete")
                {
                    _state.Remove((store, item.Key));
                    continue;
                }
                DateTimeOffset? expiresAt = item.Metadata.TryGetValue("ttlInSeconds", out var ttl)
                    ? Clock.GetUtcNow().AddSeconds(long.Parse(ttl, CultureInfo.InvariantCulture))
                    : null;
                var value = item.Value.ToByteArray();
                _state[(store, item.Key)] = (value, Interlocked.Increment(ref _nextETag), expiresAt);
                if (OutboxTopics.TryGetValue(store, out var topic))
                {
                    var id = item.Metadata.TryGetValue("outbox.cloudevent.id", out var given) ? given : Guid.NewGuid().ToString();
                    published.Add(new Delivery(topic, id, DataOf(value), Attempt: 1, TraceParent: traceParent));
                }
            }
        }
        foreach (var message in published) _queue.Writer.TryWrite(message);
        conflict = "";
        return true;
    }

    /// <summary>The key's value unless it has expired; call under the gate.</summary>
    private bool TryGetLive(string store, string key, out (byte[] Value, long ETag, DateTimeOffset? ExpiresAt) entry) =>
        _state.TryGetValue((store, key), out entry) && !(entry.ExpiresAt <= Clock.GetUtcNow());

    // --- pub/sub -----------------------------------------------------------------------------

    private void Publish(Proto.PublishEventRequest request, string? traceParent = null)
    {
        var id = request.Metadata.TryGetValue("cloudevent.id", out var given) ? given : Guid.NewGuid().ToString();
        _queue.Writer.TryWrite(new Delivery(request.Topic, id, DataOf(request.Data.ToByteArray()), Attempt: 1, TraceParent: traceParent));
    }

    /// <summary>JSON data goes into the CloudEvent as JSON; anything else as a string.</summary>
    private static JsonNode? DataOf(byte[] value)
    {
        try
        {
            return JsonNode.Parse(value);
        }
        catch (JsonException)
        {
            return JsonValue.Create(Encoding.UTF8.GetString(value));
        }
    }

    /// <summary>A message on its way; <see cref="AppId"/> set when it goes to one subscribing app only (a retry).</summary>
    private sealed record Delivery(string Topic, string Id, JsonNode? Data, int Attempt, string? AppId = null, string? TraceParent = null);

    /// <summary>Messages go out side by side, as daprd delivers them; each to one replica of every subscribing app.</summary>
    private async Task DeliverAllAsync()
    {
        var running = new List<Task>();
        try
        {
            await foreach (var message in _queue.Reader.ReadAllAsync(_stop.Token))
            {
                running.RemoveAll(task => task.IsCompleted);
                running.Add(DeliverAsync(message));
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
        await Task.WhenAll(running);
    }

    private async Task DeliverAsync(Delivery message)
    {
        var startedAt = Clock.GetUtcNow();
        List<(string AppId, Subscription Subscription)> subscribers;
        try
        {
            subscribers = await SubscribersAsync(message.Topic);
        }
        catch (Exception)
        {
            // A replica went away while telling its subscriptions: the broker tries again later.
            _ = RetryLaterAsync(message with { Attempt = message.Attempt + 1 }, startedAt);
            return;
        }
        foreach (var (appId, subscription) in subscribers)
        {
            if (message.AppId is not null && message.AppId != appId) continue;
            var status = await DeliverOnceAsync(appId, subscription, message);
            if (status == "SUCCESS") continue;
            if (status == "RETRY" && message.Attempt < MaxAttempts)
            {
                _ = RetryLaterAsync(message with { Attempt = message.Attempt + 1, AppId = appId }, startedAt);
            }
            else if (subscription.DeadLetterTopic is { } deadLetter)
            {
                // TryWrite: once the sidecar is stopping the queue is closed, and the message goes with it.
                _queue.Writer.TryWrite(new Delivery(deadLetter, message.Id, message.Data, Attempt: 1, TraceParent: message.TraceParent));
            }
        }
    }

    /// <summary>Backs off 1 s, 2 s, 4 s ... counted from when the failed attempt started, on the sidecar's clock.</summary>
    private async Task RetryLaterAsync(Delivery message, DateTimeOffset failedAttemptStart)
    {
        var wait = failedAttemptStart + TimeSpan.FromSeconds(Math.Pow(2, message.Attempt - 2)) - Clock.GetUtcNow();
        try
        {
            if (wait > TimeSpan.Zero) await Task.Delay(wait, Clock, _stop.Token);
            await _queue.Writer.WriteAsync(message, _stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            // Stopped.
        }
    }

    private async Task<string> DeliverOnceAsync(string appId, Subscription subscription, Delivery message)
    {
        var replica = PickForDelivery(appId);
        if (replica is null) return "RETRY";
        var cloudEvent = new JsonObject
        {
            ["id"] = message.Id, ["source"] = appId, ["type"] = "com.dapr.event.sent", ["specversion"] = "1.0",
            ["datacontenttype"] = "application/json", ["data"] = message.Data?.DeepClone(), ["topic"] = message.Topic,
            ["pubsubname"] = subscription.PubSub,
        };
        if (message.TraceParent is not null) cloudEvent["traceparent"] = message.TraceParent;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Route)
            {
                Content = new StringContent(cloudEvent.ToJsonString(), Encoding.UTF8, "application/cloudevents+json"),
            };
            // As daprd does: the publisher's trace continues in the delivery request.
            if (message.TraceParent is not null) request.Headers.TryAddWithoutValidation("traceparent", message.TraceParent);
            using var response = await replica.SendAsync(request, _stop.Token);
            if (response.StatusCode == HttpStatusCode.NotFound) return "DROP";
            if (!response.IsSuccessStatusCode) return "RETRY";
            var body = await response.Content.ReadAsStringAsync(_stop.Token);
            return body.Length == 0 ? "SUCCESS" : JsonNode.Parse(body)?["status"]?.GetValue<string>()?.ToUpperInvariant() ?? "SUCCESS";
        }
        catch (Exception)
        {
            // The replica failed the request or went away mid-delivery (an in-memory host being
            // disposed surfaces that as whatever its pipeline threw): to daprd that is a failed
            // delivery, and the broker delivers again.
            return "RETRY";
        }
    }

    internal sealed record Subscription(string PubSub, string Route, string? DeadLetterTopic);

    /// <summary>Per app id that subscribes to the topic, its subscription (read from its first live replica).</summary>
    private async Task<List<(string AppId, Subscription Subscription)>> SubscribersAsync(string topic)
    {
        var result = new List<(string, Subscription)>();
        foreach (var group in LiveReplicas().GroupBy(replica => replica.AppId))
        {
            var subscriptions = await group.First().SubscriptionsAsync();
            if (subscriptions.TryGetValue(topic, out var subscription)) result.Add((group.Key, subscription));
        }
        return result;
    }

    private int _nextDelivery;

    /// <summary>Competing consumers: each delivery goes to the app's next live replica.</summary>
    private Replica? PickForDelivery(string appId)
    {
        var replicas = LiveReplicas().Where(replica => replica.AppId == appId).ToList();
        return replicas.Count == 0 ? null : replicas[(Interlocked.Increment(ref _nextDelivery) & int.MaxValue) % replicas.Count];
    }

    private List<Replica> LiveReplicas()
    {
        lock (_gate) return _replicas.ToList();
    }

    // --- actors ------------------------------------------------------------------------------

    /// <summary>
    /// One actor call: placed on the one replica that hosts the id now, one turn at a time per id.
    /// The app's remoting headers and body go through as they are, both ways.
    /// </summary>
    private async Task<IResult> CallActorAsync(string type, string id, string method, HttpRequest request)
    {
        var body = await ReadAllAsync(request.Body);
        var headers = new[] { "X-DaprRequestHeader", "Dapr-Reentrancy-Id" }
            .Where(header => request.Headers.ContainsKey(header))
            .Select(header => (header, request.Headers[header].ToString()))
            .ToList();
        return await InvokeActorAsync(type, id, Uri.EscapeDataString(method), body, request.ContentType ?? "application/json", headers);
    }

    /// <summary>One turn of an actor, at <c>/actors/{type}/{id}/method/{path}</c> on the replica it is placed on.</summary>
    private async Task<IResult> InvokeActorAsync(string type, string id, string path, byte[] body, string contentType,
        List<(string Name, string Value)> headers)
    {
        var turn = _turns.GetOrAdd($"{type}||{id}", _ => new SemaphoreSlim(1, 1));
        await turn.WaitAsync();
        try
        {
            var replica = await PlaceAsync(type, id);
            if (replica is null) return ActorError($"no replica hosts actor type {type}");
            using var call = new HttpRequestMessage(HttpMethod.Put,
                $"/actors/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(id)}/method/{path}")
            {
                Content = new ByteArrayContent(body),
            };
            call.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            foreach (var (name, value) in headers) call.Headers.TryAddWithoutValidation(name, value);
            HttpResponseMessage response;
            try
            {
                response = await replica.SendAsync(call, _stop.Token);
            }
            catch (Exception e)
            {
                // As with deliveries: whatever a replica going away throws, the caller gets daprd's actor error.
                return ActorError($"the replica {replica.Name} failed the call: {e.Message}");
            }
            using (response)
            {
                var errorHeader = response.Headers.TryGetValues("X-DaprErrorResponseHeader", out var values) ? values.First() : null;
                return new Raw(await response.Content.ReadAsByteArrayAsync(), (int)response.StatusCode,
                    response.Content.Headers.ContentType?.ToString(), errorHeader);
            }
        }
        finally
        {
            turn.Release();
        }
    }

    // --- actor reminders ---------------------------------------------------------------------

    /// <summary>A registered reminder: due at <see cref="Due"/>, then every <see cref="Period"/> (none: once).</summary>
    private sealed record Reminder(string Type, string Id, string Name, DateTimeOffset Due, TimeSpan? Period, string DueTimeText, string PeriodText);

    /// <summary>The reminders registered and not removed, as "type|id|name", in order.</summary>
    public IReadOnlyList<string> Reminders()
    {
        lock (_gate) return _reminders.Keys.Select(k => $"{k.Type}|{k.Id}|{k.Name}").Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Registers (or replaces) a reminder, due on the sidecar's clock; kept by the sidecar, whatever becomes of the replica.</summary>
    private void RegisterReminder(Proto.RegisterActorReminderRequest request)
    {
        var dueTime = ParseDuration(request.DueTime);
        TimeSpan? period = string.IsNullOrEmpty(request.Period) ? null : ParseDuration(request.Period);
        if (period <= TimeSpan.Zero) throw new RpcException(new Status(StatusCode.InvalidArgument, "the reminder's period must be positive"));
        lock (_gate)
            _reminders[(request.ActorType, request.ActorId, request.Name)] = new Reminder(request.ActorType, request.ActorId, request.Name,
                Clock.GetUtcNow() + dueTime, period, request.DueTime, request.Period);
        _remindersChanged.Writer.TryWrite(true);
    }

    private void UnregisterReminder(Proto.UnregisterActorReminderRequest request)
    {
        lock (_gate) _reminders.Remove((request.ActorType, request.ActorId, request.Name));
    }

    /// <summary>A duration as daprd reads it: Go's form, such as "1h2m3s4ms" or "90s".</summary>
    internal static TimeSpan ParseDuration(string text)
    {
        var parts = System.Text.RegularExpressions.Regex.Matches(text, @"(\d+(?:\.\d+)?)(ms|h|m|s)");
        if (parts.Count == 0 || string.Concat(parts.Select(p => p.Value)) != text)
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"'{text}' is not a duration"));
        return parts.Aggregate(TimeSpan.Zero, (sum, part) =>
        {
            var value = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            return sum + part.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "s" => TimeSpan.FromSeconds(value),
                _ => TimeSpan.FromMilliseconds(value),
            };
        });
    }

    /// <summary>
    /// Fires reminders when the sidecar's clock reaches them, each as a turn of its actor on the
    /// replica hosting it then; a periodic one is due again a period later whatever the call
    /// answered (daprd does not wait for the app), a one-time one is gone once fired.
    /// </summary>
    private async Task RemindAllAsync()
    {
        var firing = new List<Task>();
        while (!_stop.IsCancellationRequested)
        {
            var now = Clock.GetUtcNow();
            DateTimeOffset? next = null;
            lock (_gate)
            {
                foreach (var reminder in _reminders.Values.ToList())
                {
                    if (reminder.Due > now)
                    {
                        if (next is null || reminder.Due < next) next = reminder.Due;
                        continue;
                    }
                    var key = (reminder.Type, reminder.Id, reminder.Name);
                    if (reminder.Period is { } period) _reminders[key] = reminder with { Due = now + period };
                    else _reminders.Remove(key);
                    firing.Add(FireAsync(reminder));
                }
            }
            firing.RemoveAll(task => task.IsCompleted);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var changed = _remindersChanged.Reader.ReadAsync(wait.Token).AsTask();
            var elapsed = next is { } at ? Task.Delay(at - now, Clock, wait.Token) : Task.Delay(Timeout.Infinite, wait.Token);
            // The clock may have jumped past the next due time while the timer was made: look again at once.
            if (next is null || Clock.GetUtcNow() < next) await Task.WhenAny(changed, elapsed);
            await wait.CancelAsync();
        }
        await Task.WhenAll(firing);
    }

    private async Task FireAsync(Reminder reminder)
    {
        var body = new JsonObject { ["dueTime"] = reminder.DueTimeText, ["period"] = reminder.PeriodText, ["data"] = null };
        try
        {
            await InvokeActorAsync(reminder.Type, reminder.Id, $"remind/{Uri.EscapeDataString(reminder.Name)}",
                Encoding.UTF8.GetBytes(body.ToJsonString()), "application/json", headers: []);
        }
        catch (Exception)
        {
            // A replica that fails a reminder gets it again at its next period, as from daprd.
        }
    }

    /// <summary>daprd's error when an actor call cannot be made.</summary>
    private static IResult ActorError(string message) =>
        Results.Json(new { errorCode = "ERR_ACTOR_INVOKE_METHOD", message }, statusCode: 500);

    /// <summary>The replica that hosts the id: among the live replicas hosting the type, by a hash of the id.</summary>
    private async Task<Replica?> PlaceAsync(string type, string id)
    {
        var hosts = new List<Replica>();
        foreach (var replica in LiveReplicas().OrderBy(r => r.Name, StringComparer.Ordinal))
            if ((await replica.ActorTypesAsync()).Contains(type)) hosts.Add(replica);
        if (hosts.Count == 0) return null;
        var hash = BitConverter.ToUInt32(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(id)));
        return hosts[(int)(hash % (uint)hosts.Count)];
    }

    private static async Task<byte[]> ReadAllAsync(Stream body)
    {
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _queue.Writer.TryComplete();
        await _delivery;
        await _reminding;
        await _web.DisposeAsync();
    }

    /// <summary>One app instance behind the sidecar: how to reach it, and what it told the sidecar about itself.</summary>
    public sealed class Replica(FakeDaprSidecar sidecar, string appId, string name, Func<HttpClient> client)
    {
        private Dictionary<string, Subscription>? _subscriptions;
        private HashSet<string>? _actorTypes;

        public string AppId { get; } = appId;
        public string Name { get; } = name;

        internal async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            if (sidecar.AppApiToken is { } token) request.Headers.TryAddWithoutValidation(TokenHeader, token);
            return await client().SendAsync(request, ct);
        }

        internal async Task<Dictionary<string, Subscription>> SubscriptionsAsync()
        {
            if (_subscriptions is not null) return _subscriptions;
            using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/dapr/subscribe"), CancellationToken.None);
            var list = response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray() : [];
            // daprd reads these names without regard to case, and a route relative to the app's root.
            return _subscriptions = list.Select(s => JsonNode.Parse(s!.ToJsonString(), new JsonNodeOptions { PropertyNameCaseInsensitive = true })!)
                .ToDictionary(
                    s => s["topic"]!.GetValue<string>(),
                    s => new Subscription(s["pubsubname"]!.GetValue<string>(),
                        "/" + (s["route"]?.GetValue<string>() ?? s["routes"]!["default"]!.GetValue<string>()).TrimStart('/'),
                        s["deadLetterTopic"]?.GetValue<string>()));
        }

        internal async Task<HashSet<string>> ActorTypesAsync()
        {
            if (_actorTypes is not null) return _actorTypes;
            using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "/dapr/config"), CancellationToken.None);
            var entities = response.IsSuccessStatusCode
                ? JsonNode.Parse(await response.Content.ReadAsStringAsync())?["entities"]?.AsArray().Select(e => e!.GetValue<string>())
                : null;
            return _actorTypes = (entities ?? []).ToHashSet(StringComparer.Ordinal);
        }
    }

    /// <summary>A body written as it is, with the actor error header when there is one.</summary>
    private sealed class Raw(byte[] body, int status, string? contentType, string? errorHeader) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            if (contentType is not null) context.Response.ContentType = contentType;
            if (errorHeader is not null) context.Response.Headers["X-DaprErrorResponseHeader"] = errorHeader;
            return context.Response.Body.WriteAsync(body).AsTask();
        }
    }

    /// <summary>
    /// The Dapr runtime's gRPC service, as far as Licenzy calls it. Dapr.Protos ships only the
    /// client, so the methods are bound here by hand from the messages' parsers; any other method
    /// answers <c>Unimplemented</c>.
    /// </summary>
    internal sealed class DaprRuntime(FakeDaprSidecar sidecar)
    {
        private static readonly string Service = Proto.Dapr.Descriptor.FullName;

        private FakeDaprSidecar Sidecar { get; } = sidecar;

        private void Authorize(ServerCallContext call)
        {
            if (call.GetHttpContext().Items.ContainsKey(Unauthenticated))
                throw new RpcException(new Status(StatusCode.Unauthenticated, "missing or wrong dapr-api-token"));
        }

        internal sealed class Methods : Grpc.AspNetCore.Server.Model.IServiceMethodProvider<DaprRuntime>
        {
            public void OnServiceMethodDiscovery(Grpc.AspNetCore.Server.Model.ServiceMethodProviderContext<DaprRuntime> context)
            {
                context.AddUnaryMethod(Unary("GetState", Proto.GetStateRequest.Parser, Proto.GetStateResponse.Parser), [],
                    (runtime, request, call) => runtime.Run(call, () => runtime.Sidecar.GetState(request)));
                context.AddUnaryMethod(Unary("SaveState", Proto.SaveStateRequest.Parser, Google.Protobuf.WellKnownTypes.Empty.Parser), [],
                    (runtime, request, call) => runtime.Run(call, () => runtime.Sidecar.Save(request.StoreName, request.States)));
                context.AddUnaryMethod(Unary("DeleteState", Proto.DeleteStateRequest.Parser, Google.Protobuf.WellKnownTypes.Empty.Parser), [],
                    (runtime, request, call) => runtime.Run(call, () => runtime.Sidecar.Delete(request)));
                context.AddUnaryMethod(Unary("ExecuteStateTransaction", Proto.ExecuteStateTransactionRequest.Parser, Google.Protobuf.WellKnownTypes.Empty.Parser), [],
                    (runtime, request, call) => runtime.Run(call, () => runtime.Sidecar.Transact(request, TraceParentOf(call))));
                context.AddUnaryMethod(Unary("PublishEvent", Proto.PublishEventRequest.Parser, Google.Protobuf.WellKnownTypes.Empty.Parser), [],
                    (runtime, request, call) => runtime.Run(call, () => runtime.Sidecar.Publish(request, TraceParentOf(call))));
                context.AddUnaryMethod(Unary("RegisterActorReminder", Proto.RegisterActorReminderRequest.Parser, Google.Protobuf.WellKnownTypes.Empty.Parser), [],
                    (runtime, request, call) => runtime.Run(call, () => runtime.Sidecar.RegisterReminder(request)));
                context.AddUnaryMethod(Unary("UnregisterActorReminder", Proto.UnregisterActorReminderRequest.Parser, Google.Protobuf.WellKnownTypes.Empty.Parser), [],
                    (runtime, request, call) => runtime.Run(call, () => runtime.Sidecar.UnregisterReminder(request)));
            }

            /// <summary>The caller's W3C trace context, which daprd carries into the CloudEvents it publishes.</summary>
            private static string? TraceParentOf(ServerCallContext call) => call.RequestHeaders.GetValue("traceparent");

            private static Method<TRequest, TResponse> Unary<TRequest, TResponse>(string name, MessageParser<TRequest> request, MessageParser<TResponse> response)
                where TRequest : class, IMessage<TRequest>
                where TResponse : class, IMessage<TResponse> =>
                new(MethodType.Unary, Service, name,
                    Marshallers.Create(message => message.ToByteArray(), request.ParseFrom),
                    Marshallers.Create(message => message.ToByteArray(), response.ParseFrom));
        }

        private Task<TResponse> Run<TResponse>(ServerCallContext call, Func<TResponse> handle)
        {
            Authorize(call);
            return Task.FromResult(handle());
        }

        private Task<Google.Protobuf.WellKnownTypes.Empty> Run(ServerCallContext call, Action handle)
        {
            Authorize(call);
            handle();
            return Task.FromResult(new Google.Protobuf.WellKnownTypes.Empty());
        }
    }
}

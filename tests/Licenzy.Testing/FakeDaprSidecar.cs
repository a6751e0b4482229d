using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Licenzy.Testing;

/// <summary>
/// A test double of the Dapr sidecar's HTTP API (v1.0), following Dapr's documented contract:
/// state with ETags and first-write concurrency, transactions, a transactional outbox on the
/// event store, publish with delivery to the app's subscription routes under SUCCESS / RETRY /
/// DROP (retries back off on the given clock, then the dead-letter topic), and actor calls routed
/// to the app's actor endpoints one turn at a time per actor. There is no daprd on these machines.
/// </summary>
public sealed class FakeDaprSidecar : IAsyncDisposable
{
    private readonly Lock _gate = new();
    // ExpiresAt: from the request's ttlInSeconds, on the sidecar's clock; past it the key is as if absent.
    private readonly Dictionary<(string Store, string Key), (string Json, long ETag, DateTimeOffset? ExpiresAt)> _state = new();
    private readonly Channel<(string Topic, string Id, JsonNode? Data, int Attempt)> _queue = Channel.CreateUnbounded<(string, string, JsonNode?, int)>();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _turns = new();
    private readonly CancellationTokenSource _stop = new();
    private WebApplication _web = null!;
    private Task _delivery = Task.CompletedTask;
    private Dictionary<string, (string Route, string? DeadLetterTopic)>? _subscriptions;
    private long _nextETag;

    private FakeDaprSidecar(TimeProvider clock) => Clock = clock;

    public TimeProvider Clock { get; }
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>How the sidecar reaches the app; set once the app runs.</summary>
    public Func<HttpClient>? App { get; set; }

    /// <summary>The event store's outbox: a commit publishes each written value to this topic.</summary>
    public Dictionary<string, string> OutboxTopics { get; } = new() { ["licenzy-events"] = "billing-events" };

    /// <summary>The token the app must send (DAPR_API_TOKEN); null to accept any call.</summary>
    public string? ApiToken { get; set; }

    /// <summary>Calls the app without a valid DAPR_API_TOKEN, refused with 401.</summary>
    public int Refused => _refused;

    private int _refused;

    /// <summary>Deliveries of one message before it goes to the dead-letter topic (the resiliency policy's retries).</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>While true, every state transaction fails with 500, as when the store behind the sidecar is down.</summary>
    public bool FailTransactions
    {
        get => Volatile.Read(ref _failTransactions);
        set => Volatile.Write(ref _failTransactions, value);
    }

    private bool _failTransactions;

    public static async Task<FakeDaprSidecar> StartAsync(TimeProvider clock)
    {
        var sidecar = new FakeDaprSidecar(clock);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var web = builder.Build();
        sidecar.Map(web);
        await web.StartAsync();
        sidecar._web = web;
        sidecar.BaseUrl = new Uri(web.Urls.Single());
        sidecar._delivery = Task.Run(sidecar.DeliverAsync);
        return sidecar;
    }

    private void Map(WebApplication web)
    {
        web.Use(async (context, next) =>
        {
            if (ApiToken is not null && context.Request.Headers["dapr-api-token"] != ApiToken)
            {
                Interlocked.Increment(ref _refused);
                context.Response.StatusCode = 401;
                return;
            }
            await next(context);
        });
        web.MapGet("/v1.0/healthz", () => Results.NoContent());
        web.MapGet("/v1.0/healthz/outbound", () => Results.NoContent());
        web.MapGet("/v1.0/state/{store}/{key}", (string store, string key) =>
        {
            lock (_gate)
            {
                if (!TryGetLive(store, key, out var entry)) return Results.NoContent();
                return new Raw(entry.Json, entry.ETag.ToString());
            }
        });
        web.MapPost("/v1.0/state/{store}", async (string store, HttpRequest request) =>
        {
            var items = (await JsonNode.ParseAsync(request.Body))!.AsArray();
            return Commit(store, items.Select(item => ("upsert", item!.AsObject())).ToList(), metadata: null);
        });
        web.MapPost("/v1.0/state/{store}/transaction", async (string store, HttpRequest request) =>
        {
            if (FailTransactions)
                return Results.Json(new { errorCode = "ERR_STATE_TRANSACTION", message = "the store is down (test)" }, statusCode: 500);
            var body = (await JsonNode.ParseAsync(request.Body))!.AsObject();
            var operations = body["operations"]!.AsArray()
                .Select(o => (o!["operation"]!.GetValue<string>(), o["request"]!.AsObject())).ToList();
            return Commit(store, operations, body["metadata"] as JsonObject);
        });
        web.MapDelete("/v1.0/state/{store}/{key}", (string store, string key, HttpRequest request) =>
        {
            var item = new JsonObject { ["key"] = key };
            if (request.Headers.IfMatch.Count > 0) item["etag"] = request.Headers.IfMatch.ToString();
            return Commit(store, [("delete", item)], metadata: null);
        });
        web.MapPost("/v1.0/publish/{pubsub}/{topic}", async (string topic, HttpRequest request) =>
        {
            var body = await JsonNode.ParseAsync(request.Body);
            var isCloudEvent = request.ContentType?.StartsWith("application/cloudevents+json", StringComparison.Ordinal) == true;
            var id = isCloudEvent ? body!["id"]!.GetValue<string>() : Guid.NewGuid().ToString();
            await _queue.Writer.WriteAsync((topic, id, isCloudEvent ? body!["data"]?.DeepClone() : body, 1));
            return Results.NoContent();
        });
        web.MapMethods("/v1.0/actors/{type}/{id}/method/{method}", ["PUT", "POST"], async (string type, string id, string method, HttpRequest request) =>
        {
            var body = await new StreamReader(request.Body).ReadToEndAsync();
            var turn = _turns.GetOrAdd($"{type}||{id}", _ => new SemaphoreSlim(1, 1));
            await turn.WaitAsync();
            try
            {
                using var response = await App!().PutAsync($"/actors/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(id)}/method/{Uri.EscapeDataString(method)}",
                    new StringContent(body, Encoding.UTF8, "application/json"));
                return new Raw(await response.Content.ReadAsStringAsync(), null, (int)response.StatusCode);
            }
            finally
            {
                turn.Release();
            }
        });
    }

    /// <summary>All operations or none: each one's ETag / first-write check first, then the writes.</summary>
    private IResult Commit(string store, List<(string Operation, JsonObject Request)> operations, JsonObject? metadata)
    {
        var published = new List<(string Topic, string Id, JsonNode? Data)>();
        lock (_gate)
        {
            foreach (var (operation, request) in operations)
            {
                var key = request["key"]!.GetValue<string>();
                var etag = request["etag"]?.GetValue<string>();
                var firstWrite = request["options"]?["concurrency"]?.GetValue<string>() == "first-write";
                var exists = TryGetLive(store, key, out var current);
                if (!string.IsNullOrEmpty(etag) && (!exists || current.ETag.ToString() != etag)) return Conflict();
                if (string.IsNullOrEmpty(etag) && firstWrite && operation == "upsert" && exists) return Conflict();
            }
            foreach (var (operation, request) in operations)
            {
                var key = request["key"]!.GetValue<string>();
                if (operation == "delete")
                {
                    _state.Remove((store, key));
                    continue;
                }
                var value = request["value"]?.ToJsonString() ?? "null";
                var ttl = request["metadata"]?["ttlInSeconds"]?.GetValue<string>();
                DateTimeOffset? expiresAt = ttl is null ? null : Clock.GetUtcNow().AddSeconds(long.Parse(ttl, System.Globalization.CultureInfo.InvariantCulture));
                _state[(store, key)] = (value, Interlocked.Increment(ref _nextETag), expiresAt);
                if (OutboxTopics.TryGetValue(store, out var topic))
                    published.Add((topic, metadata?["cloudevent.id"]?.GetValue<string>() ?? Guid.NewGuid().ToString(), JsonNode.Parse(value)));
            }
        }
        foreach (var message in published) _queue.Writer.TryWrite((message.Topic, message.Id, message.Data, 1));
        return Results.NoContent();
    }

    /// <summary>The key's value unless it has expired; call under the gate.</summary>
    private bool TryGetLive(string store, string key, out (string Json, long ETag, DateTimeOffset? ExpiresAt) entry) =>
        _state.TryGetValue((store, key), out entry) && !(entry.ExpiresAt <= Clock.GetUtcNow());

    /// <summary>When the store forgets the key (null: never), or null when there is no such key.</summary>
    public DateTimeOffset? ExpiryOf(string store, string key)
    {
        lock (_gate) return _state.TryGetValue((store, key), out var entry) ? entry.ExpiresAt : null;
    }

    private static IResult Conflict() =>
        Results.Json(new { errorCode = "ERR_STATE_SAVE", message = "possible etag mismatch. error from state store" }, statusCode: 409);

    private async Task DeliverAsync()
    {
        await foreach (var message in _queue.Reader.ReadAllAsync(_stop.Token))
        {
            var startedAt = Clock.GetUtcNow();
            var status = await DeliverOnceAsync(message.Topic, message.Id, message.Data);
            if (status == "SUCCESS") continue;
            var route = (await SubscriptionsAsync()).GetValueOrDefault(message.Topic);
            if (status == "RETRY" && message.Attempt < MaxAttempts)
            {
                _ = RetryLaterAsync(message with { Attempt = message.Attempt + 1 }, startedAt);
            }
            else if (route.DeadLetterTopic is { } deadLetter)
            {
                await _queue.Writer.WriteAsync((deadLetter, message.Id, message.Data, 1));
            }
        }
    }

    /// <summary>Backs off 1 s, 2 s, 4 s ... counted from when the failed attempt started.</summary>
    private async Task RetryLaterAsync((string Topic, string Id, JsonNode? Data, int Attempt) message, DateTimeOffset failedAttemptStart)
    {
        var wait = failedAttemptStart + TimeSpan.FromSeconds(Math.Pow(2, message.Attempt - 2)) - Clock.GetUtcNow();
        if (wait > TimeSpan.Zero) await Task.Delay(wait, Clock, _stop.Token);
        await _queue.Writer.WriteAsync(message);
    }

    private async Task<string> DeliverOnceAsync(string topic, string id, JsonNode? data)
    {
        var subscriptions = await SubscriptionsAsync();
        if (!subscriptions.TryGetValue(topic, out var subscription)) return "DROP";
        var cloudEvent = new JsonObject
        {
            ["id"] = id, ["source"] = "fake-daprd", ["type"] = "com.dapr.event.sent", ["specversion"] = "1.0",
            ["datacontenttype"] = "application/json", ["data"] = data?.DeepClone(), ["topic"] = topic, ["pubsubname"] = "licenzy-pubsub",
        };
        try
        {
            using var response = await App!().PostAsync(subscription.Route,
                new StringContent(cloudEvent.ToJsonString(), Encoding.UTF8, "application/cloudevents+json"));
            if (response.StatusCode == HttpStatusCode.NotFound) return "DROP";
            if (!response.IsSuccessStatusCode) return "RETRY";
            var body = await response.Content.ReadAsStringAsync();
            return body.Length == 0 ? "SUCCESS" : JsonNode.Parse(body)?["status"]?.GetValue<string>()?.ToUpperInvariant() ?? "SUCCESS";
        }
        catch (HttpRequestException)
        {
            return "RETRY";
        }
    }

    private async Task<Dictionary<string, (string Route, string? DeadLetterTopic)>> SubscriptionsAsync()
    {
        if (_subscriptions is not null) return _subscriptions;
        var list = await App!().GetFromJsonAsyncSafe("/dapr/subscribe");
        _subscriptions = list.EnumerateArray().ToDictionary(
            s => s.GetProperty("topic").GetString()!,
            s => (s.GetProperty("route").GetString()!, s.TryGetProperty("deadLetterTopic", out var d) ? d.GetString() : null));
        return _subscriptions;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _queue.Writer.TryComplete();
        try
        {
            await _delivery;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
        await _web.DisposeAsync();
    }

    /// <summary>A body written as it is, with an ETag header when there is one.</summary>
    private sealed class Raw(string json, string? etag, int status = 200) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            if (etag is not null) context.Response.Headers.ETag = etag;
            return context.Response.WriteAsync(json);
        }
    }
}

internal static class HttpClientJson
{
    public static async Task<JsonElement> GetFromJsonAsyncSafe(this HttpClient client, string path)
    {
        var text = await client.GetStringAsync(path);
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

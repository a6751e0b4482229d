using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Licenzy.Testing;

/// <summary>A Checkout Session the stand-in created: which key asked, the form it sent, and the URL it gave.</summary>
public sealed record StandInCheckoutSession(
    string Id, string SecretKey, bool Livemode, IReadOnlyDictionary<string, string> Form, string Url)
{
    public string Mode => Form["mode"];

    public string? ClientReferenceId => Form.GetValueOrDefault("client_reference_id");

    /// <summary>The session's own metadata (<c>metadata[k]</c> in the form).</summary>
    public IReadOnlyDictionary<string, string> Metadata => Form
        .Where(f => f.Key.StartsWith("metadata[", StringComparison.Ordinal) && f.Key.EndsWith(']'))
        .ToDictionary(f => f.Key["metadata[".Length..^1], f => f.Value);
}

/// <summary>A webhook endpoint the stand-in holds: which key made it, where it sends, for which events, and its signing secret.</summary>
public sealed record StandInWebhookEndpoint(
    string Id, string SecretKey, bool Livemode, string Url, IReadOnlyList<string> EnabledEvents, string? ApiVersion, string Secret)
{
    public JsonObject ToJson(bool withSecret)
    {
        var json = new JsonObject
        {
            ["id"] = Id,
            ["object"] = "webhook_endpoint",
            ["api_version"] = ApiVersion,
            ["application"] = null,
            ["created"] = 1_700_000_000,
            ["description"] = null,
            ["enabled_events"] = new JsonArray(EnabledEvents.Select(e => (JsonNode?)e).ToArray()),
            ["livemode"] = Livemode,
            ["metadata"] = new JsonObject(),
            ["status"] = "enabled",
            ["url"] = Url,
        };
        // Like Stripe: the secret is in the answer that created the endpoint, and in no other.
        if (withSecret) json["secret"] = Secret;
        return json;
    }
}

/// <summary>One request the stand-in received, whatever it answered.</summary>
public sealed record StandInRequest(string Method, string Path, string? SecretKey, string? IdempotencyKey);

/// <summary>
/// A local, programmable stand-in for the part of Stripe's HTTP API Licenzy calls: the balance,
/// prices and Checkout Sessions, with Stripe's error envelope, idempotency and auth. It runs on
/// real Kestrel at a loopback port, so the code under test goes through its real HTTP stack.
/// </summary>
public sealed class StripeStandIn : IAsyncDisposable
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, bool> keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Price> prices = new(StringComparer.Ordinal);
    private readonly List<StandInCheckoutSession> sessions = [];
    private readonly List<StandInWebhookEndpoint> endpoints = [];
    private readonly List<StandInRequest> requests = [];
    private readonly Dictionary<string, Queue<Injected>> injected = new(StringComparer.Ordinal);
    private readonly Dictionary<(string SecretKey, string IdempotencyKey), Replay> replays = new();
    private WebApplication? app;

    private StripeStandIn()
    {
    }

    /// <summary>Where the stand-in listens; use it as <c>Licenzy:Stripe:ApiBase</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<StandInCheckoutSession> CheckoutSessions
    {
        get
        {
            lock (gate)
            {
                return sessions.ToList();
            }
        }
    }

    /// <summary>The webhook endpoints that exist now (made and not deleted), oldest first.</summary>
    public IReadOnlyList<StandInWebhookEndpoint> WebhookEndpoints
    {
        get
        {
            lock (gate)
            {
                return endpoints.ToList();
            }
        }
    }

    /// <summary>Deletes an endpoint as an operator would in Stripe's dashboard.</summary>
    public bool DeleteWebhookEndpoint(string id)
    {
        lock (gate)
        {
            return endpoints.RemoveAll(endpoint => endpoint.Id == id) > 0;
        }
    }

    public IReadOnlyList<StandInRequest> Requests
    {
        get
        {
            lock (gate)
            {
                return requests.ToList();
            }
        }
    }

    public static async Task<StripeStandIn> StartAsync()
    {
        var standIn = new StripeStandIn();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(StripeStandIn).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        // A delayed request must not hold up disposal for the default 30 s.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));

        var app = builder.Build();
        standIn.app = app;
        app.Use(standIn.InjectAsync);
        app.Use(standIn.AuthenticateAsync);
        app.MapGet("/v1/balance", standIn.Balance);
        app.MapGet("/v1/prices/{id}", standIn.GetPrice);
        app.MapPost("/v1/checkout/sessions", standIn.CreateCheckoutSessionAsync);
        app.MapPost("/v1/webhook_endpoints", standIn.CreateWebhookEndpointAsync);
        app.MapGet("/v1/webhook_endpoints", standIn.ListWebhookEndpoints);
        app.MapGet("/v1/webhook_endpoints/{id}", standIn.GetWebhookEndpoint);
        app.MapDelete("/v1/webhook_endpoints/{id}", standIn.DeleteWebhookEndpointRoute);
        app.MapGet("/pay/{id}", (string id) => Results.Text($"Stripe stand-in checkout page for {id}", "text/plain"));

        await app.StartAsync();
        var address = app.Urls.Single();
        standIn.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return standIn;
    }

    /// <summary>Makes <paramref name="secretKey"/> valid; its mode is what <c>/v1/balance</c> reports.</summary>
    public void AddKey(string secretKey, bool livemode)
    {
        lock (gate)
        {
            keys[secretKey] = livemode;
        }
    }

    /// <summary>Adds or replaces a price. <paramref name="type"/> is <c>recurring</c> or <c>one_time</c>.</summary>
    public void AddPrice(string id, bool active = true, bool livemode = false, string type = "recurring")
    {
        if (type is not ("recurring" or "one_time"))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "A Stripe price type is recurring or one_time.");
        }

        lock (gate)
        {
            prices[id] = new Price(id, active, livemode, type);
        }
    }

    /// <summary>
    /// The next <paramref name="count"/> requests to <paramref name="path"/> get <paramref name="status"/>
    /// with an <c>api_error</c> envelope, and <c>Stripe-Should-Retry</c> when <paramref name="shouldRetry"/> is set.
    /// </summary>
    public void FailNext(string path, int count, int status, bool? shouldRetry = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 400);
        Inject(path, count, new Injected(Injection.Fail, status, shouldRetry));
    }

    /// <summary>The next <paramref name="count"/> requests to <paramref name="path"/> lose their connection.</summary>
    public void DropNext(string path, int count = 1) => Inject(path, count, new Injected(Injection.Drop));

    /// <summary>
    /// The next request to <paramref name="path"/> waits <paramref name="delay"/> before it is answered
    /// normally (or until the caller gives up). Calls add up: two calls delay the next two requests.
    /// </summary>
    public void DelayNext(string path, TimeSpan delay) => Inject(path, 1, new Injected(Injection.Delay, Delay: delay));

    /// <summary>
    /// The next <paramref name="count"/> requests to <paramref name="path"/> wait, unanswered, until the
    /// returned hold is released; it says when all of them have arrived. Lets a test line requests up
    /// at Stripe's door without guessing at timing.
    /// </summary>
    public StandInHold HoldNext(string path, int count)
    {
        var hold = new StandInHold(count);
        Inject(path, count, new Injected(Injection.Hold, Hold: hold));
        return hold;
    }

    /// <summary>How many requests arrived at <paramref name="path"/>, whatever they were answered.</summary>
    public int RequestCount(string path)
    {
        lock (gate)
        {
            return requests.Count(request => request.Path == path);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private void Inject(string path, int count, Injected what)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        lock (gate)
        {
            if (!injected.TryGetValue(path, out var queue))
            {
                injected[path] = queue = new Queue<Injected>();
            }

            for (var i = 0; i < count; i++)
            {
                queue.Enqueue(what);
            }
        }
    }

    // Records every request, then plays any failure or delay queued for its path.
    private async Task InjectAsync(HttpContext http, RequestDelegate next)
    {
        var path = http.Request.Path.Value ?? "/";
        Injected? what = null;
        lock (gate)
        {
            requests.Add(new StandInRequest(
                http.Request.Method, path, BearerKey(http.Request), Header(http.Request, "Idempotency-Key")));
            if (injected.TryGetValue(path, out var queue) && queue.Count > 0)
            {
                what = queue.Dequeue();
            }
        }

        switch (what?.Kind)
        {
            case Injection.Delay:
                var stopping = http.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping))
                {
                    try
                    {
                        await Task.Delay(what.Delay, wait.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        http.Abort();
                        return;
                    }
                }

                await next(http);
                return;
            case Injection.Hold:
                what.Hold!.Arrive();
                try
                {
                    await what.Hold.Released.WaitAsync(http.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    http.Abort();
                    return;
                }

                await next(http);
                return;
            case Injection.Fail:
                if (what.ShouldRetry is { } shouldRetry)
                {
                    http.Response.Headers["Stripe-Should-Retry"] = shouldRetry ? "true" : "false";
                }

                await Error(what.Status, "api_error", null, "Stand-in failure injected by the test.", null).ExecuteAsync(http);
                return;
            case Injection.Drop:
                http.Abort();
                return;
            default:
                await next(http);
                return;
        }
    }

    private async Task AuthenticateAsync(HttpContext http, RequestDelegate next)
    {
        http.Response.Headers["Request-Id"] = "req_" + RandomId();
        if (!http.Request.Path.StartsWithSegments("/v1"))
        {
            await next(http);
            return;
        }

        var key = BearerKey(http.Request);
        bool? livemode;
        lock (gate)
        {
            livemode = key is not null && keys.TryGetValue(key, out var mode) ? mode : null;
        }

        if (livemode is null)
        {
            await Error(401, "invalid_request_error", null, "Invalid API Key provided: " + Mask(key), null)
                .ExecuteAsync(http);
            return;
        }

        http.Items[typeof(Caller)] = new Caller(key!, livemode.Value);
        await next(http);
    }

    private IResult Balance(HttpContext http)
    {
        var caller = (Caller)http.Items[typeof(Caller)]!;
        return Json(200, new JsonObject
        {
            ["object"] = "balance",
            ["available"] = new JsonArray(new JsonObject { ["amount"] = 0, ["currency"] = "usd" }),
            ["pending"] = new JsonArray(new JsonObject { ["amount"] = 0, ["currency"] = "usd" }),
            ["livemode"] = caller.Livemode,
        });
    }

    private IResult GetPrice(string id)
    {
        Price? price;
        lock (gate)
        {
            prices.TryGetValue(id, out price);
        }

        return price is null
            ? Error(404, "invalid_request_error", "resource_missing", $"No such price: '{id}'", "id")
            : Json(200, price.ToJson());
    }

    private async Task<IResult> CreateCheckoutSessionAsync(HttpRequest request)
    {
        var http = request.HttpContext;
        var caller = (Caller)http.Items[typeof(Caller)]!;
        var form = (await http.Request.ReadFormAsync(http.RequestAborted))
            .ToDictionary(field => field.Key, field => field.Value.ToString(), StringComparer.Ordinal);
        var idempotencyKey = Header(http.Request, "Idempotency-Key");

        lock (gate)
        {
            // Like Stripe: a key replays its first answer for the same parameters, and refuses others.
            if (idempotencyKey is not null && replays.TryGetValue((caller.SecretKey, idempotencyKey), out var replay))
            {
                if (!SameForm(replay.Form, form))
                {
                    return Error(400, "idempotency_error", null,
                        "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                        null);
                }

                http.Response.Headers["Idempotent-Replayed"] = "true";
                return Json(200, JsonNode.Parse(replay.Body)!);
            }

            if (CheckCheckoutForm(form) is { } invalid)
            {
                return invalid;
            }

            var mode = form["mode"];
            var id = (caller.Livemode ? "cs_live_" : "cs_test_") + RandomId();
            var metadata = new JsonObject();
            foreach (var (name, value) in form)
            {
                if (name.StartsWith("metadata[", StringComparison.Ordinal) && name.EndsWith(']'))
                {
                    metadata[name["metadata[".Length..^1]] = value;
                }
            }

            var url = new Uri(BaseUrl, $"pay/{id}").AbsoluteUri;
            var session = new JsonObject
            {
                ["id"] = id,
                ["object"] = "checkout.session",
                ["url"] = url,
                ["livemode"] = caller.Livemode,
                ["mode"] = mode,
                ["status"] = "open",
                ["payment_status"] = "unpaid",
                ["client_reference_id"] = form.GetValueOrDefault("client_reference_id"),
                ["success_url"] = form.GetValueOrDefault("success_url"),
                ["cancel_url"] = form.GetValueOrDefault("cancel_url"),
                ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["metadata"] = metadata,
            };

            sessions.Add(new StandInCheckoutSession(id, caller.SecretKey, caller.Livemode, form, url));
            if (idempotencyKey is not null)
            {
                replays[(caller.SecretKey, idempotencyKey)] = new Replay(form, session.ToJsonString());
            }

            return Json(200, session);
        }
    }

    private async Task<IResult> CreateWebhookEndpointAsync(HttpRequest request)
    {
        var http = request.HttpContext;
        var caller = (Caller)http.Items[typeof(Caller)]!;
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var url = form["url"].ToString();
        // Stripe.net sends a list as enabled_events[0], enabled_events[1], ...; curl users send enabled_events[].
        var events = form.Where(field => field.Key.StartsWith("enabled_events[", StringComparison.Ordinal))
            .OrderBy(field => int.TryParse(field.Key["enabled_events[".Length..^1], out var index) ? index : -1)
            .SelectMany(field => field.Value.Select(value => value ?? ""))
            .ToList();
        if (string.IsNullOrEmpty(url))
        {
            return Error(400, "invalid_request_error", "parameter_missing", "Missing required param: url.", "url");
        }

        if (events.Count == 0)
        {
            return Error(400, "invalid_request_error", "parameter_missing", "Missing required param: enabled_events.", "enabled_events");
        }

        var apiVersion = form.TryGetValue("api_version", out var version) ? version.ToString() : null;
        var endpoint = new StandInWebhookEndpoint("we_" + RandomId(), caller.SecretKey, caller.Livemode, url, events, apiVersion,
            "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)));
        lock (gate)
        {
            endpoints.Add(endpoint);
        }

        return Json(200, endpoint.ToJson(withSecret: true));
    }

    private IResult ListWebhookEndpoints(HttpContext http)
    {
        var caller = (Caller)http.Items[typeof(Caller)]!;
        lock (gate)
        {
            var mine = endpoints.Where(endpoint => endpoint.SecretKey == caller.SecretKey).Reverse()
                .Select(endpoint => (JsonNode?)endpoint.ToJson(withSecret: false)).ToArray();
            return Json(200, new JsonObject
            {
                ["object"] = "list",
                ["url"] = "/v1/webhook_endpoints",
                ["has_more"] = false,
                ["data"] = new JsonArray(mine),
            });
        }
    }

    private IResult GetWebhookEndpoint(string id, HttpContext http)
    {
        var caller = (Caller)http.Items[typeof(Caller)]!;
        lock (gate)
        {
            // Another key's endpoint is another account's: Stripe answers as if it did not exist.
            var endpoint = endpoints.FirstOrDefault(e => e.Id == id && e.SecretKey == caller.SecretKey);
            return endpoint is null
                ? Error(404, "invalid_request_error", "resource_missing", $"No such webhook endpoint: '{id}'", "id")
                : Json(200, endpoint.ToJson(withSecret: false));
        }
    }

    private IResult DeleteWebhookEndpointRoute(string id, HttpContext http)
    {
        var caller = (Caller)http.Items[typeof(Caller)]!;
        lock (gate)
        {
            if (endpoints.RemoveAll(e => e.Id == id && e.SecretKey == caller.SecretKey) == 0)
            {
                return Error(404, "invalid_request_error", "resource_missing", $"No such webhook endpoint: '{id}'", "id");
            }
        }

        return Json(200, new JsonObject { ["id"] = id, ["object"] = "webhook_endpoint", ["deleted"] = true });
    }

    // Called under the lock.
    private IResult? CheckCheckoutForm(Dictionary<string, string> form)
    {
        const string priceParam = "line_items[0][price]";
        foreach (var required in (ReadOnlySpan<string>)["mode", priceParam])
        {
            if (string.IsNullOrEmpty(form.GetValueOrDefault(required)))
            {
                return Error(400, "invalid_request_error", "parameter_missing", $"Missing required param: {required}.", required);
            }
        }

        var mode = form["mode"];
        if (mode is not ("payment" or "subscription" or "setup"))
        {
            return Error(400, "invalid_request_error", "parameter_invalid_string", $"Invalid mode: {mode}", "mode");
        }

        if (!prices.TryGetValue(form[priceParam], out var price))
        {
            return Error(400, "invalid_request_error", "resource_missing", $"No such price: '{form[priceParam]}'", priceParam);
        }

        if (!price.Active)
        {
            return Error(400, "invalid_request_error", null,
                "The price specified is inactive. This field only accepts active prices.", priceParam);
        }

        if (mode == "payment" && price.Type == "recurring")
        {
            return Error(400, "invalid_request_error", null,
                "You specified `payment` mode but passed a recurring price.", priceParam);
        }

        if (mode == "subscription" && price.Type == "one_time")
        {
            return Error(400, "invalid_request_error", null,
                "You must provide at least one recurring price in `subscription` mode when using prices.", priceParam);
        }

        return null;
    }

    private static bool SameForm(IReadOnlyDictionary<string, string> first, IReadOnlyDictionary<string, string> second) =>
        first.Count == second.Count
        && first.All(field => second.TryGetValue(field.Key, out var value) && value == field.Value);

    private static IResult Json(int status, JsonNode body) =>
        Results.Text(body.ToJsonString(), "application/json", statusCode: status);

    private static IResult Error(int status, string type, string? code, string message, string? param) =>
        Json(status, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["type"] = type,
                ["code"] = code,
                ["message"] = message,
                ["param"] = param,
            },
        });

    private static string? BearerKey(HttpRequest request)
    {
        var authorization = Header(request, "Authorization");
        return authorization is not null && authorization.StartsWith("Bearer ", StringComparison.Ordinal)
            ? authorization["Bearer ".Length..]
            : null;
    }

    private static string? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var values) && values.Count > 0 ? values.ToString() : null;

    // Stripe shows only the end of a rejected key.
    private static string Mask(string? key) =>
        key is { Length: > 4 } ? $"{key[..Math.Min(8, key.Length - 4)]}****{key[^4..]}" : "****";

    private static string RandomId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    private sealed record Caller(string SecretKey, bool Livemode);

    private sealed record Replay(IReadOnlyDictionary<string, string> Form, string Body);

    private enum Injection
    {
        Fail, // answer with Status and an api_error envelope
        Drop, // close the connection without an answer
        Delay, // wait, then answer normally
        Hold, // wait for the test to release it, then answer normally
    }

    private sealed record Injected(
        Injection Kind, int Status = 0, bool? ShouldRetry = null, TimeSpan Delay = default, StandInHold? Hold = null);

    private sealed record Price(string Id, bool Active, bool Livemode, string Type)
    {
        public JsonObject ToJson() => new()
        {
            ["id"] = Id,
            ["object"] = "price",
            ["active"] = Active,
            ["livemode"] = Livemode,
            ["type"] = Type,
            ["currency"] = "usd",
            ["unit_amount"] = 1000,
            ["product"] = "prod_" + Id,
            ["recurring"] = Type == "recurring"
                ? new JsonObject { ["interval"] = "month", ["interval_count"] = 1, ["usage_type"] = "licensed" }
                : null,
            ["created"] = 1_700_000_000,
        };
    }
}

/// <summary>Requests held by <see cref="StripeStandIn.HoldNext"/>.</summary>
public sealed class StandInHold(int count)
{
    private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _waiting = count;

    /// <summary>Completes once every held request has arrived.</summary>
    public Task AllArrived => _arrived.Task;

    internal Task Released => _released.Task;

    /// <summary>Lets the held requests (and any still to come) through.</summary>
    public void Release() => _released.TrySetResult();

    internal void Arrive()
    {
        if (Interlocked.Decrement(ref _waiting) == 0) _arrived.TrySetResult();
    }
}

using System.Text.Json;
using Licenzy.Infrastructure.Actors;
using Licenzy.Infrastructure.Http;
using Licenzy.Infrastructure.PubSub;
using Licenzy.Infrastructure.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>
/// What an app serves so that its sidecar can use it: the subscriptions and their delivery
/// routes (answering SUCCESS, RETRY or DROP), and the actor host (config, method calls,
/// deactivation). When <c>APP_API_TOKEN</c> is set, every one of these requires it.
/// </summary>
public static class DaprAppEndpoints
{
    /// <summary>The route Dapr delivers a topic's messages to.</summary>
    public static string RouteFor(string topic) => $"/dapr/topics/{topic}";

    public static IEndpointRouteBuilder MapDaprAppEndpoints(this IEndpointRouteBuilder app)
    {
        var dapr = app.MapGroup("").AddEndpointFilter(RequireAppToken);
        dapr.MapGet("/dapr/subscribe", Subscriptions);
        dapr.MapPost("/dapr/topics/{topic}", DeliverAsync);
        dapr.MapGet("/dapr/config", ActorConfig);
        dapr.MapPut("/actors/{type}/{id}/method/{method}", InvokeActorAsync);
        dapr.MapDelete("/actors/{type}/{id}", (string type) => Results.Ok());
        return app;
    }

    public sealed record Subscription(string Pubsubname, string Topic, string Route, string? DeadLetterTopic);

    private static readonly JsonSerializerOptions DaprJson = new(JsonSerializerDefaults.Web);

    private static IResult Subscriptions(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        var subscriptions = scope.ServiceProvider.GetServices<ISubscriber>()
            .Select(s => new Subscription(Components.PubSub, s.Topic, RouteFor(s.Topic), s.DeadLetterTopic))
            .ToList();
        // Dapr reads this in its own (camelCase) names, e.g. deadLetterTopic.
        return Results.Json(subscriptions, DaprJson);
    }

    /// <summary>
    /// One delivery. Dapr keeps no reason when it dead-letters a message, so the reason is kept
    /// here, by message id, for the dead-letter topic's subscriber to read.
    /// </summary>
    private static async Task<IResult> DeliverAsync(string topic, HttpRequest request, IServiceProvider services, ILoggerFactory logs, CancellationToken ct)
    {
        JsonElement cloudEvent;
        try
        {
            cloudEvent = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, cancellationToken: ct);
        }
        catch (JsonException)
        {
            return Status("DROP");
        }
        var id = cloudEvent.TryGetProperty("id", out var idElement) ? idElement.GetString() ?? "" : "";
        var data = cloudEvent.TryGetProperty("data", out var dataElement) ? dataElement.Clone() : default;
        if (data.ValueKind == JsonValueKind.String && LooksLikeJson(data.GetString()!))
            data = JsonDocument.Parse(data.GetString()!).RootElement.Clone();

        await using var scope = services.CreateAsyncScope();
        var subscriber = scope.ServiceProvider.GetServices<ISubscriber>().FirstOrDefault(s => s.Topic == topic);
        if (subscriber is null) return Status("DROP");
        var state = scope.ServiceProvider.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore);
        var reasonKey = $"deadletter-reason|{id}";
        var deadLetterReason = subscriber.DeadLetterTopic is null
            ? (await state.GetAsync<string>(reasonKey, ct))?.Value ?? "Dapr gave up delivering it (see the sidecar's log)"
            : null;

        DeliveryResult result;
        try
        {
            result = await subscriber.HandleAsync(new Message(id, topic, data, Attempt: 1, deadLetterReason), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logs.CreateLogger(typeof(DaprAppEndpoints)).LogWarning(e, "Delivery of {MessageId} on {Topic} failed; Dapr will retry", id, topic);
            return Status("RETRY");
        }
        // Kept on a drop, and on each retry so that a message Dapr stops retrying still says why.
        if (result.Status != DeliveryStatus.Success && subscriber.DeadLetterTopic is not null)
            await state.SaveAsync(reasonKey, result.Reason ?? "dropped", ct);
        return Status(result.Status switch
        {
            DeliveryStatus.Success => "SUCCESS",
            DeliveryStatus.Retry => "RETRY",
            _ => "DROP",
        });
    }

    private static bool LooksLikeJson(string text) => text.TrimStart() is ['{', ..] or ['[', ..];

    private static IResult Status(string status) => Results.Json(new { status });

    public sealed record ActorHostConfig(IReadOnlyList<string> Entities, string ActorIdleTimeout, string DrainOngoingCallTimeout, bool DrainRebalancedActors);

    private static IResult ActorConfig(IEnumerable<ActorRegistration> actors) =>
        Results.Json(new ActorHostConfig(actors.Select(a => a.ActorType).ToList(), "1h", "30s", DrainRebalancedActors: true),
            DaprJson);

    /// <summary>One actor turn, as the sidecar asks for it. Dapr guarantees one turn at a time per actor id.</summary>
    private static async Task<IResult> InvokeActorAsync(string type, string id, string method, HttpRequest request, IServiceProvider services, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var actor = scope.ServiceProvider.GetKeyedService<IActor>(type);
        if (actor is null) return Results.NotFound();
        var body = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, cancellationToken: ct);
        var response = await actor.InvokeAsync(id, method, body, ct);
        return Results.Json(response, LicenzyJson.Options, statusCode: 200);
    }

    private static async ValueTask<object?> RequireAppToken(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var expected = context.HttpContext.RequestServices.GetRequiredService<IOptions<DaprOptions>>().Value.AppApiToken;
        if (expected is null) return await next(context);
        var sent = context.HttpContext.Request.Headers[DaprSidecar.TokenHeader].ToString();
        return BearerTokens.SameSecret(sent, expected) ? await next(context) : Results.Unauthorized();
    }
}

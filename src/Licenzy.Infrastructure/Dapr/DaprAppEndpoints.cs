using Licenzy.Infrastructure.Telemetry;
using System.Text.Json;
using Dapr;
using Dapr.AspNetCore;
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
/// What an app serves its sidecar, the Dapr.AspNetCore way: CloudEvents unwrapped by
/// <c>UseCloudEvents</c>, one endpoint per subscribed topic carrying its topic and dead-letter
/// topic, <c>/dapr/subscribe</c> made from them by <c>MapSubscribeHandler</c>, and the actor host
/// of Dapr.Actors.AspNetCore. With an app API token (<c>APP_API_TOKEN</c>) every one of them
/// requires it, through the SDK's "Dapr" authentication scheme.
/// </summary>
public static class DaprAppEndpoints
{
    /// <summary>The route Dapr delivers a topic's messages to.</summary>
    public static string RouteFor(string topic) => $"/dapr/topics/{topic}";

    /// <summary>The CloudEvent's id, as the CloudEvents middleware forwards it.</summary>
    private const string CloudEventIdHeader = "Cloudevent.id";

    public static WebApplication MapDaprAppEndpoints(this WebApplication app)
    {
        app.UseCloudEvents(new CloudEventsMiddlewareOptions
        {
            ForwardCloudEventPropertiesAsHeaders = true,
            IncludedCloudEventPropertiesAsHeaders = ["id"],
        });

        var sidecarOnly = app.Services.GetRequiredService<IOptions<DaprOptions>>().Value.AppApiToken is not null;
        foreach (var (topic, deadLetterTopic) in SubscribedTopics(app.Services))
        {
            var delivery = app.MapPost(RouteFor(topic), (HttpContext context, CancellationToken ct) => DeliverAsync(topic, context, ct))
                .WithTopic(new TopicOptions { PubsubName = Components.PubSub, Name = topic, DeadLetterTopic = deadLetterTopic! });
            if (sidecarOnly) delivery.RequireAuthorization(DaprRegistration.AuthorizationPolicy);
        }
        var subscribe = app.MapSubscribeHandler();
        var actors = app.MapActorsHandlers();
        if (sidecarOnly)
        {
            subscribe.RequireAuthorization(DaprRegistration.AuthorizationPolicy);
            actors.RequireAuthorization(DaprRegistration.AuthorizationPolicy);
        }
        return app;
    }

    /// <summary>The topics of the registered subscribers, read once at start.</summary>
    private static List<(string Topic, string? DeadLetterTopic)> SubscribedTopics(IServiceProvider services)
    {
        using var scope = services.CreateScope();
        return scope.ServiceProvider.GetServices<ISubscriber>()
            .Select(subscriber => (subscriber.Topic, subscriber.DeadLetterTopic))
            .Distinct()
            .ToList();
    }

    /// <summary>
    /// One delivery, answered SUCCESS, RETRY or DROP. Dapr keeps no reason when it dead-letters a
    /// message, so the reason is kept here, by message id, for the dead-letter topic's subscriber.
    /// </summary>
    private static async Task<IResult> DeliverAsync(string topic, HttpContext context, CancellationToken ct)
    {
        var services = context.RequestServices;
        var id = context.Request.Headers[CloudEventIdHeader].ToString();
        if (await ReadDataAsync(context.Request, ct) is not { } data) return Status(BulkSubscribeAppResponseStatus.DROP);

        var subscriber = services.GetServices<ISubscriber>().FirstOrDefault(s => s.Topic == topic);
        if (subscriber is null) return Status(BulkSubscribeAppResponseStatus.DROP);
        var state = services.GetRequiredService<IStateStoreFactory>().Get(Components.StateStore);
        var reasonKey = $"deadletter-reason|{id}";
        var deadLetterReason = subscriber.DeadLetterTopic is null
            ? (await state.GetAsync<string>(reasonKey, ct))?.Value ?? "Dapr gave up delivering it (see the sidecar's log)"
            : null;

        // Dapr carried the publisher's trace context to this request (CloudEvents traceparent); the span continues it.
        using var span = LicenzyTelemetry.StartProcessing(topic, id, LicenzyTelemetry.IncomingTraceParent(context));
        DeliveryResult result;
        try
        {
            result = await subscriber.HandleAsync(new Message(id, topic, data, Attempt: 1, deadLetterReason), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DaprAppEndpoints))
                .LogWarning(e, "Delivery of {MessageId} on {Topic} failed; Dapr will retry", id, topic);
            return Status(BulkSubscribeAppResponseStatus.RETRY);
        }
        // Kept on a drop, and on each retry, so that a message Dapr stops retrying still says why.
        if (result.Status != DeliveryStatus.Success && subscriber.DeadLetterTopic is not null)
            await state.SaveAsync(reasonKey, result.Reason ?? "dropped", ct);
        return Status(result.Status switch
        {
            DeliveryStatus.Success => BulkSubscribeAppResponseStatus.SUCCESS,
            DeliveryStatus.Retry => BulkSubscribeAppResponseStatus.RETRY,
            _ => BulkSubscribeAppResponseStatus.DROP,
        });
    }

    /// <summary>
    /// The message's data, as the CloudEvents middleware left it in the body; null when it is not JSON.
    /// A JSON document sent as a string (as some brokers and the outbox may carry it) is read as that document.
    /// </summary>
    private static async Task<JsonElement?> ReadDataAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            var data = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body, cancellationToken: ct);
            if (data.ValueKind == JsonValueKind.String && data.GetString()!.TrimStart() is ['{', ..] or ['[', ..])
                return JsonDocument.Parse(data.GetString()!).RootElement.Clone();
            return data;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Dapr's answer to a delivery. Dapr.AspNetCore names these statuses only for bulk deliveries;
    /// a single delivery's answer is the same word, <c>{"status": "SUCCESS"}</c>.
    /// </summary>
    private static IResult Status(BulkSubscribeAppResponseStatus status) => Results.Json(new { status = status.ToString() });
}

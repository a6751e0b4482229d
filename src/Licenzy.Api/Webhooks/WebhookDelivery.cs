using System.Text.Json.Serialization;
using Licenzy.Domain;

namespace Licenzy.Api.Webhooks;

public enum WebhookDeliveryStatus { Pending, Delivered, Failed }

/// <summary>
/// One message's delivery to one endpoint, with the message itself so that an attempt needs no
/// other read than the endpoint's. <see cref="RoundAttempts"/> counts the attempts since the
/// delivery was created or retried by hand: the retry schedule starts again at each manual retry.
/// </summary>
public sealed record WebhookDelivery(string Id, string EndpointId, OutboundMessage Message, WebhookDeliveryStatus Status, int Attempts,
    int RoundAttempts, int? LastStatusCode, string? LastError, DateTimeOffset? NextAttemptAt, DateTimeOffset CreatedAt)
{
    [JsonIgnore]
    public string TenantId => Message.TenantId;
    [JsonIgnore]
    public Mode Mode => Message.Mode;
    [JsonIgnore]
    public string StateKey => StateKeys.WebhookDelivery(Message.TenantId, Message.Mode, Id);
}

/// <summary>The delivery log's entry, as API.md shows it.</summary>
public sealed record WebhookDeliveryView(string Id, string EventId, string Type, string EndpointId, WebhookDeliveryStatus Status,
    int Attempts, int? LastStatusCode, string? LastError, DateTimeOffset? NextAttemptAt)
{
    public static WebhookDeliveryView Of(WebhookDelivery d) =>
        new(d.Id, d.Message.Id, d.Message.Type, d.EndpointId, d.Status, d.Attempts, d.LastStatusCode, d.LastError, d.NextAttemptAt);
}

/// <summary>The ids of a tenant's recent deliveries for a mode, oldest first: what the delivery log lists.</summary>
public sealed record WebhookDeliveryLog(IReadOnlyList<string> DeliveryIds)
{
    /// <summary>Older entries leave the log (their records expire with <see cref="WebhookDeliveries.RecordLifetime"/>).</summary>
    public const int Capacity = 1000;

    public static readonly WebhookDeliveryLog Empty = new([]);

    public WebhookDeliveryLog With(IEnumerable<string> ids)
    {
        var all = DeliveryIds.Concat(ids).ToList();
        return new WebhookDeliveryLog(all.Count > Capacity ? all[^Capacity..] : all);
    }
}

/// <summary>A delivery due at a time, as the dispatcher keeps it.</summary>
public sealed record ScheduledDelivery(string StateKey, string EndpointId, DateTimeOffset Due);

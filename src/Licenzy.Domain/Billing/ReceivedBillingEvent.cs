namespace Licenzy.Domain.Billing;

/// <summary>
/// A verified Stripe event as Ingest stored and published it on the billing-events topic: the
/// message between Ingest and Api. <see cref="Payload"/> is the event body exactly as received.
/// </summary>
public sealed record ReceivedBillingEvent
{
    public required string TenantId { get; init; }
    public required Mode Mode { get; init; }
    public required string EventId { get; init; }
    public required string Type { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    public required string Payload { get; init; }
}

using System.Collections.Frozen;
using System.Text.Json;

namespace Licenzy.Stripe;

/// <summary>
/// A Stripe event envelope. The object it carries stays JSON, to be read with the reader for its
/// type (<see cref="StripeSubscriptionObject.FromJson"/> and friends) once the type is known.
/// </summary>
public sealed record StripeEvent
{
    public required string Id { get; init; }
    public required string Type { get; init; }
    public required DateTimeOffset Created { get; init; }
    public bool Livemode { get; init; }
    public string? ApiVersion { get; init; }

    /// <summary><c>data.object.object</c>, e.g. <c>subscription</c>.</summary>
    public string? ObjectType { get; init; }

    /// <summary><c>data.object</c>, independent of the parsed body.</summary>
    public required JsonElement DataObject { get; init; }

    /// <summary><c>data.previous_attributes</c> on <c>*.updated</c> events.</summary>
    public JsonElement? PreviousAttributes { get; init; }

    /// <summary>Reads an event body; throws <see cref="StripePayloadException"/> when it is not one.</summary>
    public static StripeEvent Parse(ReadOnlySpan<byte> json)
    {
        var root = ReadJson(json);
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new StripePayloadException("the event is not a JSON object");
        }

        var id = root.ReadString("id");
        var type = root.ReadString("type");
        var created = root.ReadTime("created");
        var data = root.ReadObject("data");
        var dataObject = data?.ReadObject("object");
        if (string.IsNullOrEmpty(id))
        {
            throw new StripePayloadException("the event has no id");
        }

        if (string.IsNullOrEmpty(type))
        {
            throw new StripePayloadException("the event has no type");
        }

        if (created is null)
        {
            throw new StripePayloadException("the event has no created time");
        }

        if (dataObject is null)
        {
            throw new StripePayloadException("the event has no data.object");
        }

        return new StripeEvent
        {
            Id = id,
            Type = type,
            Created = created.Value,
            Livemode = root.ReadBool("livemode"),
            ApiVersion = root.ReadString("api_version"),
            ObjectType = dataObject.Value.ReadString("object"),
            DataObject = dataObject.Value.Clone(),
            PreviousAttributes = data!.Value.ReadObject("previous_attributes")?.Clone(),
        };
    }

    private static JsonElement ReadJson(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            var root = JsonElement.ParseValue(ref reader);
            if (reader.Read())
            {
                throw new StripePayloadException("the event has content after its JSON value");
            }

            return root;
        }
        catch (JsonException)
        {
            throw new StripePayloadException("the event is not valid JSON");
        }
    }
}

/// <summary>The event types Licenzy acts on.</summary>
public static class StripeEventTypes
{
    public const string CheckoutSessionCompleted = "checkout.session.completed";
    public const string AsyncPaymentSucceeded = "checkout.session.async_payment_succeeded";
    public const string AsyncPaymentFailed = "checkout.session.async_payment_failed";
    public const string SubscriptionCreated = "customer.subscription.created";
    public const string SubscriptionUpdated = "customer.subscription.updated";
    public const string SubscriptionDeleted = "customer.subscription.deleted";
    public const string InvoicePaid = "invoice.paid";
    public const string InvoicePaymentFailed = "invoice.payment_failed";
    public const string ChargeRefunded = "charge.refunded";
    public const string ChargeDisputeCreated = "charge.dispute.created";
    public const string ChargeDisputeClosed = "charge.dispute.closed";

    public static IReadOnlySet<string> Handled { get; } = new[]
    {
        CheckoutSessionCompleted, AsyncPaymentSucceeded, AsyncPaymentFailed,
        SubscriptionCreated, SubscriptionUpdated, SubscriptionDeleted,
        InvoicePaid, InvoicePaymentFailed,
        ChargeRefunded, ChargeDisputeCreated, ChargeDisputeClosed,
    }.ToFrozenSet(StringComparer.Ordinal);
}

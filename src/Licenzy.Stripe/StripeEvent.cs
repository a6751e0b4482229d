using System.Buffers;
using System.Collections.Frozen;
using System.Text.Json;
using StripeNet = global::Stripe;

namespace Licenzy.Stripe;

/// <summary>
/// A Stripe event envelope, read by Stripe.net. The object it carries stays JSON, to be read with
/// the reader for its type (<see cref="StripeSubscriptionObject.FromJson"/> and friends) once the
/// type is known: it is the part whose shape depends on the endpoint's API version, which may be
/// any, so Stripe.net's check that it is the one it pins is not made.
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
    public static StripeEvent Parse(string json)
    {
        try
        {
            return Read(json);
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json's answer to a string it cannot decode (an unpaired surrogate escape).
            throw new StripePayloadException("the event holds a string that is not valid Unicode where its envelope is read");
        }
    }

    private static StripeEvent Read(string json)
    {
        using var document = ReadJson(json); // a null json throws ArgumentNullException there
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new StripePayloadException("the event is not a JSON object");

        using var withoutData = WithoutData(root);
        var envelope = StripeObjects.Read<StripeNet.Event>(withoutData.RootElement, "the event");
        if (string.IsNullOrEmpty(envelope.Type)) throw new StripePayloadException("the event has no type");
        if (StripeJson.Time(envelope.Created) is not { } created) throw new StripePayloadException("the event has no created time");
        var data = root.ReadObject("data");
        if (data?.ReadObject("object") is not { } dataObject) throw new StripePayloadException("the event has no data.object");

        return new StripeEvent
        {
            Id = envelope.Id,
            Type = envelope.Type,
            Created = created,
            Livemode = envelope.Livemode,
            ApiVersion = envelope.ApiVersion,
            ObjectType = dataObject.ReadMember("object") is { ValueKind: JsonValueKind.String } type ? type.GetString() : null,
            DataObject = dataObject.Clone(),
            PreviousAttributes = data.Value.ReadObject("previous_attributes")?.Clone(),
        };
    }

    private static JsonDocument ReadJson(string json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            throw new StripePayloadException("the event is not valid JSON");
        }
    }

    /// <summary>The envelope without <c>data</c>, which Stripe.net would read as a typed object too.</summary>
    private static JsonDocument WithoutData(JsonElement root)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var member in root.EnumerateObject())
            {
                if (!member.NameEquals("data")) member.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return JsonDocument.Parse(buffer.WrittenMemory);
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

    /// <summary>
    /// Every type Licenzy acts on, in a fixed order: the translator's cases, and the
    /// <c>enabled_events</c> of the Stripe endpoint Licenzy registers for a tenant.
    /// </summary>
    public static IReadOnlyList<string> HandledInOrder { get; } =
    [
        CheckoutSessionCompleted, AsyncPaymentSucceeded, AsyncPaymentFailed,
        SubscriptionCreated, SubscriptionUpdated, SubscriptionDeleted,
        InvoicePaid, InvoicePaymentFailed,
        ChargeRefunded, ChargeDisputeCreated, ChargeDisputeClosed,
    ];

    public static IReadOnlySet<string> Handled { get; } = HandledInOrder.ToFrozenSet(StringComparer.Ordinal);
}

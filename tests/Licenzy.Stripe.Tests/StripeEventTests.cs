using System.Text.Json.Nodes;

namespace Licenzy.Stripe.Tests;

public sealed class StripeEventTests
{
    [Fact]
    public void Reads_the_envelope_and_keeps_the_object()
    {
        var body = Payload.Event(StripeEventTypes.SubscriptionUpdated, Payload.Read("subscription.updated.json"),
            id: "evt_1", created: 1_700_000_000);

        var stripeEvent = StripeEvent.Parse(body);

        Assert.Equal("evt_1", stripeEvent.Id);
        Assert.Equal("customer.subscription.updated", stripeEvent.Type);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), stripeEvent.Created);
        Assert.False(stripeEvent.Livemode);
        Assert.Equal("2025-03-31.basil", stripeEvent.ApiVersion);
        Assert.Equal("subscription", stripeEvent.ObjectType);
        Assert.Equal("sub_00000000000000", StripeSubscriptionObject.FromJson(stripeEvent.DataObject).Id);
        Assert.NotNull(stripeEvent.PreviousAttributes);
        Assert.True(stripeEvent.PreviousAttributes.Value.TryGetProperty("plan", out _));
    }

    [Fact]
    public void Previous_attributes_are_absent_when_null_or_missing()
    {
        var data = Payload.Read("invoice.payment_failed.json"); // carries "previous_attributes": null
        var stripeEvent = StripeEvent.Parse(Payload.Event(StripeEventTypes.InvoicePaymentFailed, data));

        Assert.Null(stripeEvent.PreviousAttributes);
        Assert.Null(StripeEvent.Parse(Payload.Event("x.y", new JsonObject { ["object"] = new JsonObject() })).PreviousAttributes);
    }

    [Fact]
    public void Api_version_may_be_null_and_object_type_missing()
    {
        // charge.refunded.json is a charge without its "object" member.
        var stripeEvent = StripeEvent.Parse(
            Payload.Event(StripeEventTypes.ChargeRefunded, Payload.Read("charge.refunded.json"), apiVersion: null));

        Assert.Null(stripeEvent.ApiVersion);
        Assert.Null(stripeEvent.ObjectType);
    }

    [Fact]
    public void The_object_outlives_the_parsed_document()
    {
        var body = Payload.Event(StripeEventTypes.CheckoutSessionCompleted, Payload.Read("checkout.session.completed.json"));
        var stripeEvent = StripeEvent.Parse(body);

        Assert.Equal("complete", stripeEvent.DataObject.GetProperty("status").GetString());
    }

    public static TheoryData<string, string> MalformedBodies => new()
    {
        { "", "not valid JSON" },
        { "not json", "not valid JSON" },
        { """{"id":"evt_1","type":"x",""", "not valid JSON" },
        { """{"id":"evt_1"} trailing""", "not valid JSON" },
        { """{"id":"evt_1"}{"id":"evt_2"}""", "not valid JSON" },
        { "[]", "not a JSON object" },
        { "null", "not a JSON object" },
        { """{"type":"x","created":1,"data":{"object":{}}}""", "the event has no id" },
        { """{"id":"","type":"x","created":1,"data":{"object":{}}}""", "the event has no id" },
        { """{"id":7,"type":"x","created":1,"data":{"object":{}}}""", "the event has no id" },
        { """{"id":"evt_1","created":1,"data":{"object":{}}}""", "no type" },
        { """{"id":"evt_1","type":"x","data":{"object":{}}}""", "no created" },
        { """{"id":"evt_1","type":"x","created":"yesterday","data":{"object":{}}}""", "no created" },
        { """{"id":"evt_1","type":"x","created":1}""", "no data.object" },
        { """{"id":"evt_1","type":"x","created":1,"data":null}""", "no data.object" },
        { """{"id":"evt_1","type":"x","created":1,"data":{}}""", "no data.object" },
        { """{"id":"evt_1","type":"x","created":1,"data":{"object":"sub_1"}}""", "no data.object" },
        { """{"id":"evt_1","type":"x","created":1,"data":{"object":{}},"livemode":false,"api_version":"2025-03-31","object":"event","request":{"id":"req_\ud800"}}""", "not valid Unicode" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public void Malformed_envelopes_are_rejected_with_a_short_reason(string body, string reason)
    {
        var error = Assert.Throws<StripePayloadException>(() => StripeEvent.Parse(body));

        Assert.Contains(reason, error.Reason);
    }

    [Fact]
    public void A_null_body_is_a_programming_error_not_a_payload_error()
    {
        Assert.Throws<ArgumentNullException>(() => StripeEvent.Parse(null!));
    }

    [Fact]
    public void The_envelope_is_read_without_its_object_so_nothing_in_the_object_can_refuse_the_event()
    {
        // An object of a shape Stripe.net's types do not expect, repeating a member besides: read
        // with the envelope, it would be refused; left as JSON, it is the object reader's to judge.
        var dataObject = """{"id":"sub_1","object":"subscription","created":"yesterday","status":"active","status":"canceled"}""";
        var body = """{"id":"evt_1","type":"customer.subscription.updated","created":1,"data":{"object":OBJECT}}""".Replace("OBJECT", dataObject);

        var stripeEvent = StripeEvent.Parse(body);

        Assert.Equal("evt_1", stripeEvent.Id);
        Assert.Equal("subscription", stripeEvent.ObjectType);
        Assert.Equal(dataObject, stripeEvent.DataObject.GetRawText());
    }

    [Fact]
    public void The_reason_never_repeats_the_body()
    {
        const string marker = "cus_private_marker";
        var body = """{"type":"x","created":1,"data":{"object":{"customer":"MARKER"}}}""".Replace("MARKER", marker);

        var error = Assert.Throws<StripePayloadException>(() => StripeEvent.Parse(body));

        Assert.DoesNotContain(marker, error.Message);
        Assert.DoesNotContain(marker, error.ToString());
    }

    [Fact]
    public void The_handled_event_types_are_Stripes_names()
    {
        Assert.Equal(11, StripeEventTypes.Handled.Count);
        Assert.Contains("checkout.session.async_payment_succeeded", StripeEventTypes.Handled);
        Assert.Contains("charge.dispute.closed", StripeEventTypes.Handled);
        Assert.All(StripeEventTypes.Handled, type => Assert.Matches("^[a-z_]+(\\.[a-z_]+)+$", type));
    }

    [Fact]
    public void Every_named_event_type_is_in_the_list_a_registered_endpoint_asks_Stripe_for_once()
    {
        // A type named for the translator but left out of the list would never be sent to an endpoint Licenzy registers.
        var named = typeof(StripeEventTypes).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!);

        Assert.Equal(named.Order(StringComparer.Ordinal), StripeEventTypes.HandledInOrder.Order(StringComparer.Ordinal));
        Assert.Equal(StripeEventTypes.HandledInOrder.Count, StripeEventTypes.Handled.Count);
    }
}

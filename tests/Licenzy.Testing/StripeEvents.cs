using System.Text.Json.Nodes;

namespace Licenzy.Testing;

/// <summary>
/// Stripe event bodies shaped like the real ones (see Licenzy.Stripe.Tests/Payloads for the
/// recorded originals), with the fields Licenzy reads filled in.
/// </summary>
public static class StripeEvents
{
    /// <summary>The first API version of the current shapes (item periods, invoice parent and payments).</summary>
    public const string CurrentShapeVersion = "2025-03-31.basil";

    /// <summary>A version of the older shapes, as an endpoint pinned before 2025-03-31 receives them.</summary>
    public const string OlderShapeVersion = "2024-06-20";

    public static string CheckoutSession(
        string type, string eventId, DateTimeOffset created, StandInCheckoutSession session, string paymentStatus,
        bool livemode = false, string? subscriptionId = null, string? paymentIntentId = null, string? customerEmail = DefaultEmail) =>
        CheckoutSession(type, eventId, created, session.Id, session.Metadata, session.Mode, paymentStatus, livemode,
            subscriptionId, paymentIntentId, session.ClientReferenceId, customerEmail);

    /// <summary>The buyer's email in the Checkout Sessions these builders make, unless a test gives another.</summary>
    public const string DefaultEmail = "buyer@example.com";

    public static string CheckoutSession(
        string type, string eventId, DateTimeOffset created, string sessionId, IReadOnlyDictionary<string, string> metadata,
        string mode, string paymentStatus, bool livemode = false, string? subscriptionId = null, string? paymentIntentId = null,
        string? clientReferenceId = null, string? customerEmail = DefaultEmail)
    {
        var metadataObject = new JsonObject();
        foreach (var (key, value) in metadata) metadataObject[key] = value;
        var session = new JsonObject
        {
            ["id"] = sessionId,
            ["object"] = "checkout.session",
            ["amount_total"] = 1900,
            ["client_reference_id"] = clientReferenceId,
            ["created"] = created.ToUnixTimeSeconds(),
            ["currency"] = "usd",
            ["customer"] = "cus_M5wW9RPFk9xNZ5",
            ["customer_details"] = customerEmail is null ? null : new JsonObject { ["email"] = customerEmail, ["name"] = "Ada Buyer" },
            ["livemode"] = livemode,
            ["metadata"] = metadataObject,
            ["mode"] = mode,
            ["payment_intent"] = mode == "payment" ? paymentIntentId ?? "pi_" + sessionId : null,
            ["payment_status"] = paymentStatus,
            ["status"] = "complete",
            ["subscription"] = mode == "subscription" ? subscriptionId ?? "sub_" + sessionId : null,
        };
        return Envelope(type, eventId, created, livemode, session);
    }

    /// <summary>
    /// A subscription. <paramref name="currentShape"/>: the period end on <c>items.data[]</c> (since
    /// 2025-03-31); otherwise at the top level, as older API versions send it.
    /// </summary>
    public static string Subscription(
        string type, string eventId, DateTimeOffset created, string subscriptionId, string status, IReadOnlyDictionary<string, string> metadata,
        DateTimeOffset periodStart, DateTimeOffset periodEnd, bool currentShape = true, DateTimeOffset? canceledAt = null)
    {
        var item = new JsonObject
        {
            ["id"] = "si_" + subscriptionId, ["object"] = "subscription_item",
            ["price"] = new JsonObject { ["id"] = "price_x", ["object"] = "price" },
        };
        var subscription = new JsonObject
        {
            ["id"] = subscriptionId,
            ["object"] = "subscription",
            ["cancel_at_period_end"] = false,
            ["canceled_at"] = canceledAt?.ToUnixTimeSeconds(),
            ["created"] = periodStart.ToUnixTimeSeconds(),
            ["customer"] = "cus_M5wW9RPFk9xNZ5",
            ["ended_at"] = status == "canceled" ? canceledAt?.ToUnixTimeSeconds() : null,
            ["items"] = new JsonObject { ["object"] = "list", ["data"] = new JsonArray(item) },
            ["livemode"] = false,
            ["metadata"] = Metadata(metadata),
            ["status"] = status,
        };
        var holder = currentShape ? item : subscription;
        holder["current_period_start"] = periodStart.ToUnixTimeSeconds();
        holder["current_period_end"] = periodEnd.ToUnixTimeSeconds();
        return Envelope(type, eventId, created, livemode: false, subscription, currentShape ? CurrentShapeVersion : OlderShapeVersion);
    }

    /// <summary>
    /// An invoice of a subscription. <paramref name="currentShape"/>: the subscription under
    /// <c>parent.subscription_details</c> and the payment under <c>payments</c> (since 2025-03-31);
    /// otherwise top-level <c>subscription</c>, <c>subscription_details</c> and <c>payment_intent</c>.
    /// </summary>
    public static string Invoice(
        string type, string eventId, DateTimeOffset created, string subscriptionId, IReadOnlyDictionary<string, string> metadata,
        DateTimeOffset periodEnd, string paymentIntentId, bool currentShape = true)
    {
        var paid = type == "invoice.paid";
        var invoice = new JsonObject
        {
            ["id"] = "in_" + eventId,
            ["object"] = "invoice",
            ["amount_paid"] = paid ? 1900 : 0,
            ["billing_reason"] = "subscription_cycle",
            ["created"] = created.ToUnixTimeSeconds(),
            ["lines"] = new JsonObject
            {
                ["object"] = "list",
                ["data"] = new JsonArray(new JsonObject
                {
                    ["id"] = "il_" + eventId, ["object"] = "line_item",
                    ["period"] = new JsonObject { ["start"] = created.ToUnixTimeSeconds(), ["end"] = periodEnd.ToUnixTimeSeconds() },
                }),
            },
            ["livemode"] = false,
            ["status"] = paid ? "paid" : "open",
        };
        if (currentShape)
        {
            invoice["parent"] = new JsonObject
            {
                ["type"] = "subscription_details",
                ["subscription_details"] = new JsonObject { ["subscription"] = subscriptionId, ["metadata"] = Metadata(metadata) },
            };
            invoice["payments"] = new JsonObject
            {
                ["object"] = "list",
                ["data"] = new JsonArray(new JsonObject
                {
                    ["id"] = "inpay_" + eventId, ["object"] = "invoice_payment",
                    ["payment"] = new JsonObject { ["type"] = "payment_intent", ["payment_intent"] = paymentIntentId },
                }),
            };
        }
        else
        {
            invoice["subscription"] = subscriptionId;
            invoice["subscription_details"] = new JsonObject { ["metadata"] = Metadata(metadata) };
            invoice["payment_intent"] = paymentIntentId;
        }
        return Envelope(type, eventId, created, livemode: false, invoice, currentShape ? CurrentShapeVersion : OlderShapeVersion);
    }

    /// <summary>A charge of a payment intent, refunded by <paramref name="amountRefunded"/> of 1900.</summary>
    public static string ChargeRefunded(string eventId, DateTimeOffset created, string paymentIntentId, long amountRefunded) =>
        Envelope("charge.refunded", eventId, created, livemode: false, new JsonObject
        {
            ["id"] = "ch_" + paymentIntentId,
            ["object"] = "charge",
            ["amount"] = 1900,
            ["amount_refunded"] = amountRefunded,
            ["created"] = created.ToUnixTimeSeconds(),
            ["livemode"] = false,
            ["metadata"] = new JsonObject(),
            ["paid"] = true,
            ["payment_intent"] = paymentIntentId,
            ["refunded"] = amountRefunded >= 1900,
            ["status"] = "succeeded",
        });

    /// <summary>A dispute on a payment intent's charge: <c>charge.dispute.created</c> or <c>.closed</c> with its status.</summary>
    public static string Dispute(string type, string eventId, DateTimeOffset created, string disputeId, string paymentIntentId, string status) =>
        Envelope(type, eventId, created, livemode: false, new JsonObject
        {
            ["id"] = disputeId,
            ["object"] = "dispute",
            ["amount"] = 1900,
            ["charge"] = "ch_" + paymentIntentId,
            ["created"] = created.ToUnixTimeSeconds(),
            ["livemode"] = false,
            ["payment_intent"] = paymentIntentId,
            ["reason"] = "fraudulent",
            ["status"] = status,
        });

    private static JsonObject Metadata(IReadOnlyDictionary<string, string> metadata)
    {
        var result = new JsonObject();
        foreach (var (key, value) in metadata) result[key] = value;
        return result;
    }

    public static string Envelope(
        string type, string eventId, DateTimeOffset created, bool livemode, JsonObject dataObject, string apiVersion = CurrentShapeVersion) =>
        new JsonObject
        {
            ["id"] = eventId,
            ["object"] = "event",
            ["api_version"] = apiVersion,
            ["created"] = created.ToUnixTimeSeconds(),
            ["data"] = new JsonObject { ["object"] = dataObject },
            ["livemode"] = livemode,
            ["pending_webhooks"] = 1,
            ["request"] = new JsonObject { ["id"] = null, ["idempotency_key"] = null },
            ["type"] = type,
        }.ToJsonString();
}

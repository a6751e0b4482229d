using System.Text.Json.Nodes;

namespace Licenzy.Testing;

/// <summary>
/// Stripe event bodies shaped like the real ones (see Licenzy.Stripe.Tests/Payloads for the
/// recorded originals), with the fields Licenzy reads filled in.
/// </summary>
public static class StripeEvents
{
    public static string CheckoutSession(
        string type, string eventId, DateTimeOffset created, StandInCheckoutSession session, string paymentStatus,
        bool livemode = false, string? subscriptionId = null, string? paymentIntentId = null) =>
        CheckoutSession(type, eventId, created, session.Id, session.Metadata, session.Mode, paymentStatus, livemode,
            subscriptionId, paymentIntentId, session.ClientReferenceId);

    public static string CheckoutSession(
        string type, string eventId, DateTimeOffset created, string sessionId, IReadOnlyDictionary<string, string> metadata,
        string mode, string paymentStatus, bool livemode = false, string? subscriptionId = null, string? paymentIntentId = null,
        string? clientReferenceId = null)
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

    public static string Envelope(string type, string eventId, DateTimeOffset created, bool livemode, JsonObject dataObject) =>
        new JsonObject
        {
            ["id"] = eventId,
            ["object"] = "event",
            ["api_version"] = "2025-03-31.basil",
            ["created"] = created.ToUnixTimeSeconds(),
            ["data"] = new JsonObject { ["object"] = dataObject },
            ["livemode"] = livemode,
            ["pending_webhooks"] = 1,
            ["request"] = new JsonObject { ["id"] = null, ["idempotency_key"] = null },
            ["type"] = type,
        }.ToJsonString();
}

using System.Globalization;
using System.Text.Json.Nodes;
using Licenzy.Sandbox.Account;

namespace Licenzy.Sandbox.Wire;

/// <summary>
/// The sandbox's objects as Stripe writes them in API answers and event payloads, in the current
/// API shape (<see cref="StripeEventJson.ApiVersion"/>): periods on subscription items, invoices
/// tied to their subscription under <c>parent</c> and to their payments under <c>payments</c>.
/// Every object is test mode.
/// </summary>
public static class StripeObjectJson
{
    private static readonly TimeSpan DisputeResponseWindow = TimeSpan.FromDays(7);
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromDays(3);

    public static JsonObject Price(SandboxPrice price) => new()
    {
        ["id"] = price.Id,
        ["object"] = "price",
        ["active"] = price.Active,
        ["billing_scheme"] = "per_unit",
        ["created"] = Unix(price.Created),
        ["currency"] = price.Currency,
        ["custom_unit_amount"] = null,
        ["livemode"] = false,
        ["lookup_key"] = null,
        ["metadata"] = new JsonObject(),
        ["nickname"] = price.Nickname,
        ["product"] = price.ProductId,
        ["recurring"] = price.IsRecurring
            ? new JsonObject
            {
                ["interval"] = "month", ["interval_count"] = 1, ["meter"] = null, ["trial_period_days"] = null, ["usage_type"] = "licensed",
            }
            : null,
        ["tax_behavior"] = "unspecified",
        ["tiers_mode"] = null,
        ["transform_quantity"] = null,
        ["type"] = price.Type,
        ["unit_amount"] = price.UnitAmount,
        ["unit_amount_decimal"] = price.UnitAmount.ToString(CultureInfo.InvariantCulture),
    };

    public static JsonObject CheckoutSession(SandboxCheckoutSession session, DateTimeOffset now)
    {
        var status = session.StatusAt(now);
        return new JsonObject
        {
            ["id"] = session.Id,
            ["object"] = "checkout.session",
            ["amount_subtotal"] = session.AmountTotal,
            ["amount_total"] = session.AmountTotal,
            ["cancel_url"] = session.Request.CancelUrl,
            ["client_reference_id"] = session.Request.ClientReferenceId,
            ["created"] = Unix(session.Created),
            ["currency"] = session.Request.Price.Currency,
            ["customer"] = session.CustomerId,
            ["customer_creation"] = session.Request.Mode == CheckoutModes.Subscription ? "always" : "if_required",
            ["customer_details"] = status == SessionStatuses.Complete
                ? new JsonObject
                {
                    ["address"] = null, ["email"] = session.CustomerEmail, ["name"] = null, ["phone"] = null, ["tax_exempt"] = "none",
                    ["tax_ids"] = new JsonArray(),
                }
                : null,
            ["customer_email"] = session.Request.CustomerEmail,
            ["expires_at"] = Unix(session.ExpiresAt),
            ["invoice"] = session.InvoiceId,
            ["livemode"] = false,
            ["metadata"] = Metadata(session.Request.Metadata),
            ["mode"] = session.Request.Mode,
            ["payment_intent"] = session.PaymentIntentId,
            ["payment_method_types"] = new JsonArray("card"),
            ["payment_status"] = session.PaymentStatus,
            ["status"] = status,
            ["subscription"] = session.SubscriptionId,
            ["success_url"] = session.Request.SuccessUrl,
            ["ui_mode"] = "hosted",
            // Stripe stops showing the payment page's URL once the session is over.
            ["url"] = status == SessionStatuses.Open ? session.Url : null,
        };
    }

    public static JsonObject Subscription(SandboxSubscription subscription, StripeApiVersion version)
    {
        var item = SubscriptionItem(subscription);
        var json = new JsonObject
        {
            ["id"] = subscription.Id,
            ["object"] = "subscription",
            ["billing_cycle_anchor"] = Unix(subscription.Created),
            ["cancel_at"] = null,
            ["cancel_at_period_end"] = false,
            ["canceled_at"] = Unix(subscription.CanceledAt),
            ["cancellation_details"] = new JsonObject
            {
                ["comment"] = null, ["feedback"] = null,
                ["reason"] = subscription.Status == SubscriptionStatuses.Canceled ? "cancellation_requested" : null,
            },
            ["collection_method"] = "charge_automatically",
            ["created"] = Unix(subscription.Created),
            ["currency"] = subscription.Price.Currency,
            ["customer"] = subscription.CustomerId,
            ["ended_at"] = Unix(subscription.EndedAt),
            ["items"] = List($"/v1/subscription_items?subscription={subscription.Id}", item),
            ["latest_invoice"] = subscription.LatestInvoiceId,
            ["livemode"] = false,
            ["metadata"] = Metadata(subscription.Metadata),
            ["start_date"] = Unix(subscription.Created),
            ["status"] = subscription.Status,
            ["trial_end"] = null,
            ["trial_start"] = null,
        };

        // Since basil the billing period lives on the item; before, on the subscription.
        var periodHolder = version.HasBasilShapes ? item : json;
        periodHolder["current_period_end"] = Unix(subscription.PeriodEnd);
        periodHolder["current_period_start"] = Unix(subscription.PeriodStart);
        return json;
    }

    private static JsonObject SubscriptionItem(SandboxSubscription subscription) => new()
    {
        ["id"] = subscription.ItemId,
        ["object"] = "subscription_item",
        ["created"] = Unix(subscription.Created),
        ["metadata"] = new JsonObject(),
        ["price"] = Price(subscription.Price),
        ["quantity"] = subscription.Quantity,
        ["subscription"] = subscription.Id,
    };

    public static JsonObject Invoice(SandboxInvoice invoice, StripeApiVersion version)
    {
        var paid = invoice.IsPaid;
        var json = new JsonObject
        {
            ["id"] = invoice.Id,
            ["object"] = "invoice",
            ["amount_due"] = invoice.Amount,
            ["amount_paid"] = paid ? invoice.Amount : 0,
            ["amount_remaining"] = paid ? 0 : invoice.Amount,
            ["attempt_count"] = invoice.AttemptCount,
            ["attempted"] = invoice.AttemptCount > 0,
            ["billing_reason"] = invoice.BillingReason,
            ["collection_method"] = "charge_automatically",
            ["created"] = Unix(invoice.Created),
            ["currency"] = invoice.Price.Currency,
            ["customer"] = invoice.CustomerId,
            ["lines"] = List($"/v1/invoices/{invoice.Id}/lines", InvoiceLine(invoice, version)),
            ["livemode"] = false,
            ["metadata"] = new JsonObject(),
            ["next_payment_attempt"] = paid ? null : Unix(invoice.Created + RetryAfterFailure),
            // The invoice's own period is the one its items were collected in: for a renewal, the
            // period just ended. Its line carries the period paid for, which is the one that matters.
            ["period_end"] = Unix(invoice.PeriodStart),
            ["period_start"] = Unix(invoice.BillingReason == "subscription_cycle"
                ? invoice.PeriodStart - (invoice.PeriodEnd - invoice.PeriodStart)
                : invoice.PeriodStart),
            ["status"] = invoice.Status,
            ["status_transitions"] = new JsonObject
            {
                ["finalized_at"] = Unix(invoice.Created), ["marked_uncollectible_at"] = null, ["paid_at"] = Unix(invoice.PaidAt), ["voided_at"] = null,
            },
            ["subtotal"] = invoice.Amount,
            ["total"] = invoice.Amount,
        };

        if (version.HasBasilShapes)
        {
            json["parent"] = new JsonObject
            {
                ["type"] = "subscription_details",
                ["quote_details"] = null,
                ["subscription_details"] = new JsonObject
                {
                    ["metadata"] = Metadata(invoice.SubscriptionMetadata), ["subscription"] = invoice.SubscriptionId,
                },
            };
            json["payments"] = List($"/v1/invoice_payments?invoice={invoice.Id}", InvoicePayment(invoice));
        }
        else
        {
            json["charge"] = invoice.ChargeId;
            json["payment_intent"] = invoice.PaymentIntentId;
            json["subscription"] = invoice.SubscriptionId;
            json["subscription_details"] = new JsonObject { ["metadata"] = Metadata(invoice.SubscriptionMetadata) };
        }

        return json;
    }

    /// <summary>The invoice's one line: the subscription item's price for the period paid for.</summary>
    private static JsonObject InvoiceLine(SandboxInvoice invoice, StripeApiVersion version)
    {
        var line = new JsonObject
        {
            ["id"] = "il_" + invoice.Id["in_".Length..],
            ["object"] = "line_item",
            ["amount"] = invoice.Amount,
            ["currency"] = invoice.Price.Currency,
            ["description"] = $"{invoice.Quantity} × {invoice.Price.Nickname}",
            ["invoice"] = invoice.Id,
            ["livemode"] = false,
            ["metadata"] = Metadata(invoice.SubscriptionMetadata),
            ["period"] = new JsonObject { ["end"] = Unix(invoice.PeriodEnd), ["start"] = Unix(invoice.PeriodStart) },
            ["quantity"] = invoice.Quantity,
        };

        if (version.HasBasilShapes)
        {
            line["parent"] = new JsonObject
            {
                ["type"] = "subscription_item_details",
                ["subscription_item_details"] = new JsonObject
                {
                    ["invoice_item"] = null, ["proration"] = false, ["subscription"] = invoice.SubscriptionId,
                    ["subscription_item"] = invoice.SubscriptionItemId,
                },
            };
            line["pricing"] = new JsonObject
            {
                ["type"] = "price_details",
                ["price_details"] = new JsonObject { ["price"] = invoice.Price.Id, ["product"] = invoice.Price.ProductId },
                ["unit_amount_decimal"] = invoice.Price.UnitAmount.ToString(CultureInfo.InvariantCulture),
            };
        }
        else
        {
            line["price"] = Price(invoice.Price);
            line["proration"] = false;
            line["subscription"] = invoice.SubscriptionId;
            line["subscription_item"] = invoice.SubscriptionItemId;
            line["type"] = "subscription";
        }

        return line;
    }

    private static JsonObject InvoicePayment(SandboxInvoice invoice)
    {
        var paid = invoice.IsPaid;
        return new JsonObject
        {
            ["id"] = "inpay_" + invoice.PaymentIntentId["pi_".Length..],
            ["object"] = "invoice_payment",
            ["amount_paid"] = paid ? invoice.Amount : null,
            ["amount_requested"] = invoice.Amount,
            ["created"] = Unix(invoice.Created),
            ["currency"] = invoice.Price.Currency,
            ["invoice"] = invoice.Id,
            ["is_default"] = true,
            ["livemode"] = false,
            ["payment"] = new JsonObject { ["type"] = "payment_intent", ["payment_intent"] = invoice.PaymentIntentId },
            ["status"] = paid ? "paid" : "open",
            ["status_transitions"] = new JsonObject { ["canceled_at"] = null, ["paid_at"] = Unix(invoice.PaidAt) },
        };
    }

    /// <summary>A charge. Its metadata is empty: Stripe does not copy the payment intent's metadata onto it.</summary>
    public static JsonObject Charge(SandboxCharge charge, StripeApiVersion version)
    {
        var json = new JsonObject
        {
            ["id"] = charge.Id,
            ["object"] = "charge",
            ["amount"] = charge.Amount,
            ["amount_captured"] = charge.Amount,
            ["amount_refunded"] = charge.AmountRefunded,
            ["captured"] = true,
            ["created"] = Unix(charge.Created),
            ["currency"] = charge.Currency,
            ["customer"] = charge.CustomerId,
            ["description"] = null,
            ["disputed"] = charge.Disputed,
            ["failure_code"] = null,
            ["failure_message"] = null,
            ["livemode"] = false,
            ["metadata"] = new JsonObject(),
            ["outcome"] = new JsonObject
            {
                ["network_status"] = "approved_by_network", ["risk_level"] = "normal", ["seller_message"] = "Payment complete.", ["type"] = "authorized",
            },
            ["paid"] = true,
            ["payment_intent"] = charge.PaymentIntentId,
            ["refunded"] = charge.FullyRefunded,
            ["status"] = "succeeded",
        };

        // Charges stopped naming their invoice in basil.
        if (!version.HasBasilShapes) json["invoice"] = charge.InvoiceId;
        return json;
    }

    public static JsonObject Dispute(SandboxDispute dispute) => new()
    {
        ["id"] = dispute.Id,
        ["object"] = "dispute",
        ["amount"] = dispute.Amount,
        ["balance_transactions"] = new JsonArray(),
        ["charge"] = dispute.ChargeId,
        ["created"] = Unix(dispute.Created),
        ["currency"] = dispute.Currency,
        ["evidence_details"] = new JsonObject
        {
            ["due_by"] = Unix(dispute.Created + DisputeResponseWindow), ["has_evidence"] = false, ["past_due"] = false, ["submission_count"] = 0,
        },
        ["is_charge_refundable"] = false,
        ["livemode"] = false,
        ["metadata"] = new JsonObject(),
        ["payment_intent"] = dispute.PaymentIntentId,
        ["reason"] = "fraudulent",
        ["status"] = dispute.Status,
    };

    public static JsonObject Metadata(IReadOnlyDictionary<string, string> metadata)
    {
        var json = new JsonObject();
        foreach (var (key, value) in metadata.OrderBy(entry => entry.Key, StringComparer.Ordinal)) json[key] = value;
        return json;
    }

    public static long Unix(DateTimeOffset at) => at.ToUnixTimeSeconds();

    private static long? Unix(DateTimeOffset? at) => at?.ToUnixTimeSeconds();

    private static JsonObject List(string url, JsonObject item) => new()
    {
        ["object"] = "list", ["data"] = new JsonArray(item), ["has_more"] = false, ["total_count"] = 1, ["url"] = url,
    };
}

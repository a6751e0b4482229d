using System.Text.Json;
using System.Text.Json.Nodes;

namespace Licenzy.Stripe.Tests;

public sealed class StripeEventObjectTests
{
    private static DateTimeOffset Unix(long seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds);

    // Subscriptions

    [Fact]
    public void Subscription_period_end_is_read_from_the_top_level_in_the_old_shape()
    {
        var subscription = StripeSubscriptionObject.FromJson(Payload.Element(Payload.Object("subscription.created.json")));

        Assert.Equal("sub_00000000000000", subscription.Id);
        Assert.Equal("active", subscription.Status);
        Assert.Equal("cus_00000000000000", subscription.CustomerId);
        Assert.Equal(Unix(1466783124), subscription.Created);
        Assert.Equal(Unix(1486568724), subscription.CurrentPeriodStart);
        Assert.Equal(Unix(1488987924), subscription.CurrentPeriodEnd);
        Assert.Equal(Unix(1467992724), subscription.TrialEnd);
        Assert.False(subscription.CancelAtPeriodEnd);
        Assert.Null(subscription.CanceledAt);
        Assert.Null(subscription.EndedAt);
        Assert.Equal(new[] { "FFBEGINNER_00000000000000" }, subscription.PriceIds);
        Assert.Empty(subscription.Metadata);
    }

    [Fact]
    public void Subscription_period_end_is_read_from_the_items_in_the_current_shape()
    {
        // subscription.updated.json carries the period only on its item, as since 2025-03-31.
        var json = Payload.Object("subscription.updated.json");
        Assert.False(json.ContainsKey("current_period_end"));

        var subscription = StripeSubscriptionObject.FromJson(Payload.Element(json));

        Assert.Equal(Unix(1488987924), subscription.CurrentPeriodEnd);
        Assert.Equal(Unix(1486568724), subscription.CurrentPeriodStart);
        Assert.Equal("canceled", subscription.Status);
        Assert.Equal(Unix(1487872069), subscription.CanceledAt);
        Assert.Equal(Unix(1487872069), subscription.EndedAt);
    }

    [Fact]
    public void Subscription_from_the_current_API_fixture()
    {
        var subscription = StripeSubscriptionObject.FromJson(Payload.Element(Payload.Object("openapi.subscription.json")));

        Assert.Equal("sub_1Pgc6rB7WZ01zgkWNy0Cn5nw", subscription.Id);
        Assert.Equal(Unix(976287773), subscription.CurrentPeriodEnd);
        Assert.Equal(new[] { "price_1PgafmB7WZ01zgkW6dKueIc5" }, subscription.PriceIds);
        Assert.Equal("cus_QXg1o8vcGmoR32", subscription.CustomerId);
    }

    [Fact]
    public void Subscription_period_follows_the_item_that_ends_last()
    {
        var json = Payload.Object("subscription.updated.json");
        var items = json["items"]!["data"]!.AsArray();
        var second = items[0]!.DeepClone().AsObject();
        second["id"] = "si_second";
        second["current_period_start"] = 1_490_000_000;
        second["current_period_end"] = 1_500_000_000;
        second["price"]!["id"] = "price_second";
        items.Add(second);

        var subscription = StripeSubscriptionObject.FromJson(Payload.Element(json));

        Assert.Equal(Unix(1_500_000_000), subscription.CurrentPeriodEnd);
        Assert.Equal(Unix(1_490_000_000), subscription.CurrentPeriodStart);
        Assert.Equal(new[] { "FFBEGINNER_00000000000000", "price_second" }, subscription.PriceIds);
    }

    [Fact]
    public void Subscription_tolerates_nulls_and_expanded_customer()
    {
        var json = Payload.Object("subscription.created.json");
        json["metadata"] = null;
        json["customer"] = new JsonObject { ["id"] = "cus_expanded", ["object"] = "customer" };
        json["current_period_end"] = null;
        json["current_period_start"] = null;
        json["items"] = null;
        json["trial_end"] = null;

        var subscription = StripeSubscriptionObject.FromJson(Payload.Element(json));

        Assert.Empty(subscription.Metadata);
        Assert.Equal("cus_expanded", subscription.CustomerId);
        Assert.Null(subscription.CurrentPeriodEnd);
        Assert.Null(subscription.CurrentPeriodStart);
        Assert.Null(subscription.TrialEnd);
        Assert.Empty(subscription.PriceIds);
    }

    [Fact]
    public void Subscription_metadata_and_cancel_at_period_end()
    {
        var json = Payload.Object("subscription.created.json");
        json["metadata"] = new JsonObject { ["licenzy_tenant"] = "ten_1", ["licenzy_subject"] = "user:42" };
        json["cancel_at_period_end"] = true;

        var subscription = StripeSubscriptionObject.FromJson(Payload.Element(json));

        Assert.True(subscription.CancelAtPeriodEnd);
        Assert.Equal("ten_1", subscription.Metadata["licenzy_tenant"]);
        Assert.Equal("user:42", subscription.Metadata["licenzy_subject"]);
    }

    [Fact]
    public void Subscription_period_on_the_items_wins_over_one_left_at_the_top_level()
    {
        var json = Payload.Object("subscription.updated.json");
        json["current_period_start"] = 1_400_000_000;
        json["current_period_end"] = 1_400_100_000;

        var subscription = StripeSubscriptionObject.FromJson(Payload.Element(json));

        Assert.Equal(Unix(1486568724), subscription.CurrentPeriodStart);
        Assert.Equal(Unix(1488987924), subscription.CurrentPeriodEnd);
    }

    [Fact]
    public void Subscription_items_that_name_a_plan_instead_of_a_price_give_the_plan_id()
    {
        var json = Payload.Object("subscription.created.json");
        var item = json["items"]!["data"]![0]!.AsObject();
        item["plan"] = item["price"]!.DeepClone();
        item["plan"]!["object"] = "plan";
        item["plan"]!["id"] = "plan_old_shape";
        item.Remove("price");

        var subscription = StripeSubscriptionObject.FromJson(Payload.Element(json));

        Assert.Equal(new[] { "plan_old_shape" }, subscription.PriceIds);
    }

    [Fact]
    public void Subscription_item_Stripe_net_cannot_read_is_left_out_and_the_others_kept()
    {
        var json = Payload.Object("subscription.updated.json");
        json["items"]!["data"]!.AsArray().Insert(0, 7);

        var subscription = StripeSubscriptionObject.FromJson(Payload.Element(json));

        Assert.Equal(new[] { "FFBEGINNER_00000000000000" }, subscription.PriceIds);
        Assert.Equal(Unix(1488987924), subscription.CurrentPeriodEnd);
    }

    [Theory]
    [InlineData(253_402_300_799L, true)] // DateTimeOffset.MaxValue, to the second
    [InlineData(253_402_300_800L, false)]
    [InlineData(-62_135_596_800L, true)] // DateTimeOffset.MinValue
    [InlineData(-62_135_596_801L, false)]
    public void Subscription_period_outside_what_a_DateTimeOffset_holds_reads_as_absent(long seconds, bool readable)
    {
        var json = Payload.Object("subscription.created.json");
        json["current_period_start"] = seconds;
        json["current_period_end"] = seconds;

        var subscription = StripeSubscriptionObject.FromJson(Payload.Element(json));

        var expected = readable ? Unix(seconds) : (DateTimeOffset?)null;
        Assert.Equal(expected, subscription.CurrentPeriodStart);
        Assert.Equal(expected, subscription.CurrentPeriodEnd);
    }

    // Invoices

    [Fact]
    public void Invoice_subscription_is_read_from_parent_subscription_details_in_the_current_shape()
    {
        var invoice = StripeInvoiceObject.FromJson(Payload.Element(Payload.Object("invoice.payment_failed.json")));

        Assert.Equal("in_1234", invoice.Id);
        Assert.Equal("open", invoice.Status);
        Assert.Equal("sub_1234", invoice.SubscriptionId);
        Assert.Equal("0", invoice.SubscriptionMetadata["license_id"]);
        Assert.Equal("subscription_cycle", invoice.BillingReason);
        Assert.Equal(0, invoice.AmountPaid);
        Assert.Equal(Unix(1745433962), invoice.Created);
        Assert.Null(invoice.PaymentIntentId);
        Assert.Null(invoice.ChargeId);
    }

    [Fact]
    public void Invoice_period_end_is_the_latest_line_period_not_the_invoice_period()
    {
        var invoice = StripeInvoiceObject.FromJson(Payload.Element(Payload.Object("invoice.payment_failed.json")));

        // period_end on the invoice is 1745433906: the period that just ended.
        Assert.Equal(Unix(1776969906), invoice.PeriodEnd);
    }

    [Fact]
    public void Invoice_period_end_falls_back_to_period_end_without_lines()
    {
        var json = Payload.Object("invoice.payment_failed.json");
        json.Remove("lines");

        Assert.Equal(Unix(1745433906), StripeInvoiceObject.FromJson(Payload.Element(json)).PeriodEnd);
    }

    [Fact]
    public void Invoice_subscription_is_read_from_the_top_level_in_the_old_shape()
    {
        var json = Payload.Object("invoice.payment_failed.json");
        json["parent"] = null;
        json["subscription"] = "sub_old_shape";
        json["subscription_details"] = new JsonObject { ["metadata"] = new JsonObject { ["licenzy_subject"] = "s1" } };

        var invoice = StripeInvoiceObject.FromJson(Payload.Element(json));

        Assert.Equal("sub_old_shape", invoice.SubscriptionId);
        Assert.Equal("s1", invoice.SubscriptionMetadata["licenzy_subject"]);
    }

    [Fact]
    public void Invoice_subscription_may_be_expanded_in_either_shape()
    {
        var oldShape = Payload.Object("invoice.payment_failed.json");
        oldShape["parent"] = null;
        oldShape["subscription"] = new JsonObject { ["id"] = "sub_expanded_top", ["object"] = "subscription" };
        var currentShape = Payload.Object("invoice.payment_failed.json");
        currentShape["parent"]!["subscription_details"]!["subscription"] =
            new JsonObject { ["id"] = "sub_expanded_parent", ["object"] = "subscription" };

        Assert.Equal("sub_expanded_top", StripeInvoiceObject.FromJson(Payload.Element(oldShape)).SubscriptionId);
        Assert.Equal("sub_expanded_parent", StripeInvoiceObject.FromJson(Payload.Element(currentShape)).SubscriptionId);
    }

    [Fact]
    public void Invoice_from_the_current_API_fixture_has_a_null_top_level_subscription()
    {
        var invoice = StripeInvoiceObject.FromJson(Payload.Element(Payload.Object("openapi.invoice.json")));

        Assert.Equal("in_1Pgc6tB7WZ01zgkWu9fdqL6I", invoice.Id);
        Assert.Equal("subscription", invoice.SubscriptionId); // the fixture's placeholder id
        Assert.Empty(invoice.SubscriptionMetadata); // "metadata": null
        Assert.Equal(Unix(1721954054), invoice.PeriodEnd);
        Assert.Equal("draft", invoice.Status);
    }

    [Fact]
    public void Invoice_without_a_subscription_keeps_its_payment_ids()
    {
        // A one-off invoice: no subscription anywhere, subscription_details.metadata null.
        var invoice = StripeInvoiceObject.FromJson(Payload.Element(Payload.Object("invoice.json")));

        Assert.Null(invoice.SubscriptionId);
        Assert.Empty(invoice.SubscriptionMetadata);
        Assert.Equal("paid", invoice.Status);
        Assert.Equal(24512, invoice.AmountPaid);
        Assert.Equal("manual", invoice.BillingReason);
        Assert.Equal("pi_3RFFrjKXBGcbgpbZ0mAQxeI1", invoice.PaymentIntentId);
        Assert.Equal("ch_3RFFrjKXBGcbgpbZ0g57Qovb", invoice.ChargeId);
        Assert.Equal(Unix(1744986310), invoice.PeriodEnd);
    }

    [Fact]
    public void Invoice_subscription_under_parent_wins_over_one_left_at_the_top_level()
    {
        var json = Payload.Object("invoice.payment_failed.json");
        json["subscription"] = "sub_top_level";

        Assert.Equal("sub_1234", StripeInvoiceObject.FromJson(Payload.Element(json)).SubscriptionId);
    }

    [Fact]
    public void Invoice_payment_intent_from_its_payments_wins_over_one_left_at_the_top_level()
    {
        var json = Payload.Object("invoice.payment_failed.json");
        json["payment_intent"] = "pi_top_level";
        json["payments"] = Payments(
            new JsonObject { ["type"] = "charge", ["charge"] = "ch_1" },
            new JsonObject { ["type"] = "payment_intent", ["payment_intent"] = "pi_from_payments" });

        Assert.Equal("pi_from_payments", StripeInvoiceObject.FromJson(Payload.Element(json)).PaymentIntentId);
    }

    [Fact]
    public void Invoice_payments_without_a_payment_intent_leave_the_top_level_one()
    {
        var json = Payload.Object("invoice.payment_failed.json");
        json["payment_intent"] = "pi_top_level";
        json["payments"] = Payments(new JsonObject { ["type"] = "charge", ["charge"] = "ch_1" });

        Assert.Equal("pi_top_level", StripeInvoiceObject.FromJson(Payload.Element(json)).PaymentIntentId);
    }

    private static JsonObject Payments(params JsonObject[] payments) => new()
    {
        ["object"] = "list",
        ["data"] = new JsonArray(payments.Select((payment, i) => (JsonNode)new JsonObject
        {
            ["id"] = $"inpay_{i}", ["object"] = "invoice_payment", ["payment"] = payment,
        }).ToArray()),
    };

    // Checkout sessions

    [Fact]
    public void Checkout_session_from_a_completed_event()
    {
        var session = StripeCheckoutSessionObject.FromJson(Payload.Element(Payload.Object("checkout.session.completed.json")));

        Assert.Equal("cs_test_a1UejXx8ebIdTzFolicVypUAZpOBVkoQKDbaarXoPlPVtj8p0zujPEEhjT", session.Id);
        Assert.Equal("subscription", session.Mode);
        Assert.Equal("complete", session.Status);
        Assert.Equal("paid", session.PaymentStatus);
        Assert.Equal("sub_1LNkeSKXBGcbgpbZ7jMqOPSi", session.SubscriptionId);
        Assert.Equal("cus_M5wW9RPFk9xNZ5", session.CustomerId);
        Assert.Null(session.PaymentIntentId);
        Assert.Null(session.ClientReferenceId);
        Assert.Null(session.Created); // this payload has no created member
        Assert.Empty(session.Metadata);
        Assert.False(session.Livemode);
    }

    [Fact]
    public void Checkout_session_with_expanded_ids_metadata_and_client_reference()
    {
        var json = Payload.Object("openapi.checkout.session.json");
        json["client_reference_id"] = "att_1";
        json["metadata"] = new JsonObject { ["licenzy_attempt"] = "att_1" };
        json["payment_intent"] = new JsonObject { ["id"] = "pi_expanded", ["object"] = "payment_intent" };
        json["customer"] = new JsonObject { ["id"] = "cus_expanded", ["object"] = "customer" };

        var session = StripeCheckoutSessionObject.FromJson(Payload.Element(json));

        Assert.Equal("payment", session.Mode);
        Assert.Equal("att_1", session.ClientReferenceId);
        Assert.Equal("att_1", session.Metadata["licenzy_attempt"]);
        Assert.Equal("pi_expanded", session.PaymentIntentId);
        Assert.Equal("cus_expanded", session.CustomerId);
        Assert.Null(session.SubscriptionId);
        Assert.Equal(Unix(1234567890), session.Created);
    }

    [Fact]
    public void Checkout_session_email_is_the_one_checkout_collected_else_the_one_it_was_created_with()
    {
        var collected = Payload.Object("checkout.session.completed.json");
        var prefilled = Payload.Object("checkout.session.completed.json");
        prefilled["customer_details"] = null;
        prefilled["customer_email"] = "given@example.com";
        var neither = Payload.Object("checkout.session.completed.json");
        neither["customer_details"] = null;

        Assert.Equal("chris@gorails.com", StripeCheckoutSessionObject.FromJson(Payload.Element(collected)).CustomerEmail);
        Assert.Equal("given@example.com", StripeCheckoutSessionObject.FromJson(Payload.Element(prefilled)).CustomerEmail);
        Assert.Null(StripeCheckoutSessionObject.FromJson(Payload.Element(neither)).CustomerEmail);
    }

    [Fact]
    public void Checkout_session_with_null_metadata_has_empty_metadata()
    {
        var json = Payload.Object("checkout.session.completed.json");
        json["metadata"] = null;

        Assert.Empty(StripeCheckoutSessionObject.FromJson(Payload.Element(json)).Metadata);
    }

    // Charges and disputes

    [Fact]
    public void Charge_with_a_partial_refund()
    {
        var charge = StripeChargeObject.FromJson(Payload.Element(Payload.Object("charge.refunded.json")));

        Assert.Equal("ch_chargeid", charge.Id);
        Assert.Equal(1500, charge.Amount);
        Assert.Equal(500, charge.AmountRefunded);
        Assert.False(charge.Refunded);
        Assert.Equal("pm_1234", charge.PaymentIntentId);
        Assert.Null(charge.InvoiceId);
        Assert.Empty(charge.Metadata);
        Assert.Equal(Unix(1351497305), charge.Created);
    }

    [Fact]
    public void Charge_fully_refunded_with_expanded_invoice_and_metadata()
    {
        var json = Payload.Object("openapi.charge.json");
        json["refunded"] = true;
        json["amount_refunded"] = 100;
        json["invoice"] = new JsonObject { ["id"] = "in_expanded", ["object"] = "invoice" };
        json["payment_intent"] = "pi_1";
        json["metadata"] = new JsonObject { ["licenzy_subject"] = "user:1" };

        var charge = StripeChargeObject.FromJson(Payload.Element(json));

        Assert.True(charge.Refunded);
        Assert.Equal(100, charge.Amount);
        Assert.Equal(100, charge.AmountRefunded);
        Assert.Equal("in_expanded", charge.InvoiceId);
        Assert.Equal("pi_1", charge.PaymentIntentId);
        Assert.Equal("user:1", charge.Metadata["licenzy_subject"]);
    }

    [Fact]
    public void Dispute_with_a_charge_id_or_an_expanded_charge()
    {
        var json = Payload.Object("openapi.dispute.json");
        var dispute = StripeDisputeObject.FromJson(Payload.Element(json));
        json["charge"] = new JsonObject { ["id"] = "ch_expanded", ["object"] = "charge" };
        json["status"] = "won";
        var expanded = StripeDisputeObject.FromJson(Payload.Element(json));

        Assert.Equal("dp_1Pgc71B7WZ01zgkWMevJiAUx", dispute.Id);
        Assert.Equal("ch_1PgafuB7WZ01zgkWXYmPNZs8", dispute.ChargeId);
        Assert.Null(dispute.PaymentIntentId);
        Assert.Equal("warning_needs_response", dispute.Status);
        Assert.Equal(Unix(1234567890), dispute.Created);
        Assert.Equal("ch_expanded", expanded.ChargeId);
        Assert.Equal("won", expanded.Status);
    }

    // Every reader

    public static TheoryData<string, string> NotObjects => new()
    {
        { "null", "is not a JSON object" },
        { "\"sub_1\"", "is not a JSON object" },
        { "[]", "is not a JSON object" },
        { "{}", "has no id" },
        { "{\"id\":null}", "has no id" },
        { "{\"id\":\"\"}", "has no id" },
    };

    [Theory]
    [MemberData(nameof(NotObjects))]
    public void Readers_reject_what_is_not_an_object_with_an_id_naming_what_they_read(string json, string problem)
    {
        using var document = JsonDocument.Parse(json);
        var element = document.RootElement;

        Assert.Equal($"checkout.session {problem}", Reason(() => StripeCheckoutSessionObject.FromJson(element)));
        Assert.Equal($"subscription {problem}", Reason(() => StripeSubscriptionObject.FromJson(element)));
        Assert.Equal($"invoice {problem}", Reason(() => StripeInvoiceObject.FromJson(element)));
        Assert.Equal($"charge {problem}", Reason(() => StripeChargeObject.FromJson(element)));
        Assert.Equal($"dispute {problem}", Reason(() => StripeDisputeObject.FromJson(element)));
    }

    [Fact]
    public void A_repeated_member_name_is_read_last_one_winning_when_the_rest_reads_and_refused_when_it_does_not()
    {
        // Stripe never repeats a member. When the whole object reads, System.Text.Json keeps the last
        // value; when it does not, the member-by-member reading cannot tell the two apart.
        using var whole = JsonDocument.Parse("""{"id":"sub_1","status":"active","status":"canceled"}""");
        using var partial = JsonDocument.Parse("""{"id":"sub_1","created":"yesterday","status":"active","status":"canceled"}""");

        Assert.Equal("canceled", StripeSubscriptionObject.FromJson(whole.RootElement).Status);
        Assert.Equal("subscription repeats a member name", Reason(() => StripeSubscriptionObject.FromJson(partial.RootElement)));
    }

    private static string Reason(Func<object> read) => Assert.Throws<StripePayloadException>(read).Reason;

    [Fact]
    public void Readers_ignore_members_of_unexpected_kinds()
    {
        var json = new JsonObject
        {
            ["id"] = "sub_odd",
            ["status"] = 3,
            ["created"] = "yesterday",
            ["current_period_end"] = 1e30,
            ["metadata"] = new JsonObject { ["kept"] = "yes", ["number"] = 7 },
            ["items"] = new JsonObject { ["data"] = "none" },
            ["cancel_at_period_end"] = "true",
        };

        var subscription = StripeSubscriptionObject.FromJson(Payload.Element(json));

        Assert.Null(subscription.Status);
        Assert.Null(subscription.Created);
        Assert.Null(subscription.CurrentPeriodEnd);
        Assert.Equal(new Dictionary<string, string> { ["kept"] = "yes" }, subscription.Metadata);
        Assert.Empty(subscription.PriceIds);
        Assert.False(subscription.CancelAtPeriodEnd);
    }

    [Fact]
    public void Readers_leave_out_an_object_or_list_sent_where_a_plain_value_belongs()
    {
        // Nothing inside such a member reads, and what is left of it ({} or []) does not read there either.
        var json = new JsonObject
        {
            ["id"] = "sub_odd",
            ["status"] = new JsonObject { ["code"] = 3 },
            ["customer"] = new JsonArray("cus_1"),
            ["cancel_at_period_end"] = true,
        };

        var subscription = StripeSubscriptionObject.FromJson(Payload.Element(json));

        Assert.Null(subscription.Status);
        Assert.Null(subscription.CustomerId);
        Assert.True(subscription.CancelAtPeriodEnd);
    }
}

using System.Text.Json;

namespace Licenzy.Stripe.Tests;

public class InvoicePaymentsTests
{
    [Fact]
    public void A_current_shape_invoice_names_its_payment_intent_through_its_payments()
    {
        // Shape of an invoice after 2025-03-31: no top-level payment_intent; payments list instead.
        var invoice = JsonDocument.Parse("""
            {"id":"in_1","object":"invoice","status":"paid",
             "parent":{"type":"subscription_details","subscription_details":{"subscription":"sub_1","metadata":{"licenzy_subject":"u"}}},
             "payments":{"object":"list","data":[{"id":"inpay_1","object":"invoice_payment","payment":{"type":"payment_intent","payment_intent":"pi_new"}}]}}
            """).RootElement;

        var parsed = StripeInvoiceObject.FromJson(invoice);

        Assert.Equal("pi_new", parsed.PaymentIntentId);
        Assert.Equal("sub_1", parsed.SubscriptionId);
        Assert.Equal("u", parsed.SubscriptionMetadata["licenzy_subject"]);
    }

    [Fact]
    public void An_older_invoice_names_it_at_the_top()
    {
        var invoice = JsonDocument.Parse("""{"id":"in_1","object":"invoice","subscription":"sub_1","payment_intent":"pi_old"}""").RootElement;

        Assert.Equal("pi_old", StripeInvoiceObject.FromJson(invoice).PaymentIntentId);
    }
}

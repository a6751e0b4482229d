using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Sandbox.Account;
using Licenzy.Stripe;

namespace Licenzy.Sandbox.Tests;

/// <summary>
/// The whole flow a developer runs without a Stripe account: connect with the sandbox's secret,
/// define products on sandbox prices, start a checkout, press Pay on the page, and have access.
/// </summary>
public sealed class CheckoutFlowTests(SandboxedLicenzy app) : IClassFixture<SandboxedLicenzy>
{
    [Fact]
    public async Task Paying_a_subscription_on_the_checkout_page_grants_access()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var checkout = await tenant.CheckoutAsync("user_1", SandboxTenant.Subscription, successUrl: "https://shop.example/thanks?s={CHECKOUT_SESSION_ID}");
        Assert.StartsWith(SandboxedLicenzy.Origin + "/sandbox/checkout/cs_test_", checkout.Url);

        var page = await app.BrowserClient().GetAsync(checkout.Url);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("id=\"pay\"", html);
        Assert.Contains("id=\"cancel\"", html);
        Assert.Contains("$19.00", html);
        Assert.False(await tenant.IsAllowedAsync("user_1"), "creating a checkout grants nothing");

        var paid = await tenant.PayAsync(checkout);

        Assert.Equal(HttpStatusCode.SeeOther, paid.StatusCode);
        Assert.Equal($"https://shop.example/thanks?s={checkout.SessionId}", paid.Headers.Location!.OriginalString);
        var events = await tenant.SessionEventsAsync(checkout);
        Assert.Equal(["checkout.session.completed", "customer.subscription.created", "invoice.paid"], events.Select(e => e.Type));
        await tenant.AppliedAsync(events);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
        var entitlement = Assert.Single((await tenant.EntitlementsAsync("user_1")).EnumerateArray());
        Assert.Equal("active", entitlement.GetProperty("status").GetString());
        Assert.Equal("subscription_active", entitlement.GetProperty("availability_reason").GetString());
        Assert.Equal(0, (await tenant.DeadLettersAsync()).GetArrayLength());
    }

    [Fact]
    public async Task Every_webhook_is_signed_with_the_sandbox_secret_and_sent_to_the_tenants_test_ingest_route()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var (checkout, events) = await tenant.BuyAsync("user_1", SandboxTenant.Subscription);

        foreach (var delivered in events)
        {
            var webhook = tenant.Webhook(delivered);
            Assert.Equal($"/v1/webhooks/stripe/{tenant.TenantId}/test", webhook.Path);
            var check = StripeSignature.Check(webhook.Body, webhook.Signature, SandboxOptions.DefaultWebhookSecret, app.Clock.GetUtcNow());
            Assert.True(check.IsValid, check.Problem);
            var stripeEvent = webhook.Event;
            Assert.False(stripeEvent.Livemode);
            Assert.Equal(delivered.Type, stripeEvent.Type);
        }

        var completed = StripeCheckoutSessionObject.FromJson(tenant.Webhook(events[0]).Event.DataObject);
        Assert.Equal(checkout.SessionId, completed.Id);
        Assert.Equal("paid", completed.PaymentStatus);
        Assert.Equal("user_1", completed.Metadata["licenzy_subject"]);
        Assert.Equal(SandboxTenant.Subscription, completed.Metadata["licenzy_product"]);
        var subscription = StripeSubscriptionObject.FromJson(tenant.Webhook(events[1]).Event.DataObject);
        Assert.Equal(completed.SubscriptionId, subscription.Id);
        Assert.Equal("active", subscription.Status);
        Assert.Equal(app.Clock.GetUtcNow().AddDays(30).ToUnixTimeSeconds(), subscription.CurrentPeriodEnd!.Value.ToUnixTimeSeconds());
        var invoice = StripeInvoiceObject.FromJson(tenant.Webhook(events[2]).Event.DataObject);
        Assert.Equal(subscription.Id, invoice.SubscriptionId);
        Assert.Equal("user_1", invoice.SubscriptionMetadata["licenzy_subject"]);
        Assert.NotNull(invoice.PaymentIntentId);
    }

    [Fact]
    public async Task The_page_asks_for_the_buyers_email_and_the_completed_session_carries_it()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var checkout = await tenant.CheckoutAsync("user_1", SandboxTenant.DayPass);
        var html = await app.BrowserClient().GetStringAsync(checkout.Url);
        Assert.Contains("id=\"email\"", html);
        Assert.Contains("value=\"user_1@example.com\"", html);

        var paid = await tenant.PayAsync(checkout, email: "jane.doe@example.com");

        Assert.Equal(HttpStatusCode.SeeOther, paid.StatusCode);
        var completed = Assert.Single(await tenant.SessionEventsAsync(checkout));
        await tenant.AppliedAsync([completed]);
        Assert.Equal("jane.doe@example.com", StripeCheckoutSessionObject.FromJson(tenant.Webhook(completed).Event.DataObject).CustomerEmail);
    }

    [Theory]
    [InlineData("not an email")]
    [InlineData("Jane <jane@example.com>")]
    [InlineData("a@b@example.com")]
    public async Task An_email_that_is_not_one_address_pays_nothing_and_says_so(string email)
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var checkout = await tenant.CheckoutAsync("user_1", SandboxTenant.DayPass);

        var refused = await tenant.PayAsync(checkout, email);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("Enter one email address", await refused.Content.ReadAsStringAsync());
        Assert.Empty(tenant.Webhooks);
        Assert.Equal(HttpStatusCode.SeeOther, (await tenant.PayAsync(checkout, "jane@example.com")).StatusCode);
    }

    [Fact]
    public async Task A_time_pass_and_a_usage_pack_are_bought_the_same_way()
    {
        var tenant = await SandboxTenant.CreateAsync(app);

        var (_, passEvents) = await tenant.BuyAsync("pass_user", SandboxTenant.DayPass);
        var (_, packEvents) = await tenant.BuyAsync("pack_user", SandboxTenant.Credits);

        Assert.Equal(["checkout.session.completed"], passEvents.Select(e => e.Type));
        Assert.Equal(["checkout.session.completed"], packEvents.Select(e => e.Type));
        var pass = Assert.Single((await tenant.EntitlementsAsync("pass_user")).EnumerateArray());
        Assert.Equal("pass_active", pass.GetProperty("availability_reason").GetString());
        var pack = Assert.Single((await tenant.EntitlementsAsync("pack_user")).EnumerateArray());
        Assert.Equal(100, pack.GetProperty("usage_remaining").GetInt64());
        Assert.True(await tenant.IsAllowedAsync("pass_user"));
        Assert.True(await tenant.IsAllowedAsync("pack_user"));
    }

    [Fact]
    public async Task Cancel_sends_the_buyer_to_the_cancel_url_and_tells_Licenzy_nothing()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var checkout = await tenant.CheckoutAsync("user_1", SandboxTenant.Subscription, cancelUrl: "https://shop.example/cart");

        var canceled = await tenant.CancelAsync(checkout);

        Assert.Equal(HttpStatusCode.SeeOther, canceled.StatusCode);
        Assert.Equal("https://shop.example/cart", canceled.Headers.Location!.OriginalString);
        Assert.Empty(tenant.Webhooks);
        Assert.False(await tenant.IsAllowedAsync("user_1"));
        // The session stays open: the buyer can come back and pay.
        Assert.Equal(HttpStatusCode.OK, (await app.BrowserClient().GetAsync(checkout.Url)).StatusCode);
    }

    [Fact]
    public async Task Without_a_cancel_url_Cancel_shows_the_sandboxs_own_page()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var checkout = await tenant.CheckoutAsync("user_1", SandboxTenant.Subscription);

        var canceled = await tenant.CancelAsync(checkout);
        var page = await app.BrowserClient().GetAsync(canceled.Headers.Location);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Checkout canceled", await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_session_is_paid_once()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var (checkout, events) = await tenant.BuyAsync("user_1", SandboxTenant.Subscription);

        var again = await tenant.PayAsync(checkout);

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("Already paid", await again.Content.ReadAsStringAsync());
        Assert.Equal(events.Count, tenant.Webhooks.Count);
    }

    [Fact]
    public async Task Two_Pay_clicks_at_once_pay_once()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var checkout = await tenant.CheckoutAsync("user_1", SandboxTenant.Subscription);

        var answers = await Task.WhenAll(tenant.PayAsync(checkout), tenant.PayAsync(checkout));

        Assert.Equal([HttpStatusCode.SeeOther, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
        Assert.Equal(3, tenant.Webhooks.Count);
        await tenant.AppliedAsync(await tenant.SessionEventsAsync(checkout));
        Assert.Single((await tenant.EntitlementsAsync("user_1")).EnumerateArray());
    }

    [Fact]
    public async Task An_unknown_session_is_a_404_page()
    {
        var response = await app.BrowserClient().GetAsync("/sandbox/checkout/cs_test_nothing");
        var pay = await app.BrowserClient().PostAsync("/sandbox/checkout/cs_test_nothing/pay", content: null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("No such checkout", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, pay.StatusCode);
    }

    [Fact]
    public async Task An_unpaid_session_expires_after_a_day()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var checkout = await tenant.CheckoutAsync("user_expiring", SandboxTenant.Subscription);
        app.Clock.Advance(TimeSpan.FromHours(24));

        var pay = await tenant.PayAsync(checkout);

        Assert.Equal(HttpStatusCode.Gone, pay.StatusCode);
        Assert.Empty(tenant.Webhooks);
        Assert.False(await tenant.IsAllowedAsync("user_expiring"));
    }

    [Fact]
    public async Task When_Licenzy_refuses_a_webhook_the_page_says_why_and_Pay_delivers_it_again_once_fixed()
    {
        var tenant = await SandboxTenant.CreateAsync(app, webhookSecret: "whsec_not_the_sandbox_secret");
        var checkout = await tenant.CheckoutAsync("user_1", SandboxTenant.Subscription);

        var refused = await tenant.PayAsync(checkout);
        var html = await refused.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Contains("Licenzy:Sandbox:WebhookSecret", html);
        Assert.Contains("Deliver again", html);
        Assert.False(await tenant.IsAllowedAsync("user_1"));

        await tenant.ConnectStripeAsync(SandboxOptions.DefaultWebhookSecret);
        var delivered = await tenant.PayAsync(checkout);

        Assert.Equal(HttpStatusCode.SeeOther, delivered.StatusCode);
        var events = await tenant.SessionEventsAsync(checkout);
        Assert.Equal(3, events.Count);
        await tenant.AppliedAsync(events);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task Products_can_use_a_price_added_to_the_sandbox()
    {
        var tenant = await SandboxTenant.CreateAsync(app);
        var added = await tenant.Admin.PostAsJsonAsync("/sandbox/prices", new { type = "recurring", unit_amount = 4900, nickname = "Team" });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var price = await added.Content.ReadFromJsonAsync<JsonElement>();
        var priceId = price.GetProperty("id").GetString()!;
        Assert.StartsWith("price_", priceId);
        Assert.Equal("recurring", price.GetProperty("type").GetString());
        Assert.False(price.GetProperty("livemode").GetBoolean());

        await tenant.DefineAsync(new { code = "TEAM", kind = "subscription", stripe_price_id = priceId });
        var (_, events) = await tenant.BuyAsync("team_user", "TEAM");

        Assert.Equal(3, events.Count);
        Assert.True(await tenant.IsAllowedAsync("team_user"));
        var listed = await tenant.Admin.GetFromJsonAsync<JsonElement>("/sandbox/prices");
        Assert.Contains(listed.GetProperty("prices").EnumerateArray(), p => p.GetProperty("id").GetString() == priceId);
        Assert.Contains(listed.GetProperty("prices").EnumerateArray(), p => p.GetProperty("id").GetString() == SeededPrices.ProMonthly);
    }
}

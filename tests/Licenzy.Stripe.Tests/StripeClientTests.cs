using Licenzy.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Licenzy.Stripe.Tests;

/// <summary>StripeClient against a real loopback stand-in for Stripe; each test has its own.</summary>
public sealed class StripeClientTests : IAsyncLifetime
{
    private const string TestKey = "sk_test_51Client0Tests0Secret0Key";
    private const string LiveKey = "sk_live_51Client0Tests0Secret0Key";
    private const string Sessions = "/v1/checkout/sessions";
    private const string Balance = "/v1/balance";

    private readonly LogCapture logs = new();
    private readonly List<ServiceProvider> providers = [];
    private StripeStandIn stripe = null!;

    public async Task InitializeAsync()
    {
        stripe = await StripeStandIn.StartAsync();
        stripe.AddKey(TestKey, livemode: false);
        stripe.AddKey(LiveKey, livemode: true);
        stripe.AddPrice("price_monthly", type: "recurring");
        stripe.AddPrice("price_pack", type: "one_time");
    }

    public async Task DisposeAsync()
    {
        foreach (var provider in providers)
        {
            await provider.DisposeAsync();
        }

        await stripe.DisposeAsync();
    }

    private IStripeClient Client(int maxRetries = 2, string attemptTimeout = "00:00:10")
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Licenzy:Stripe:ApiBase"] = stripe.BaseUrl.AbsoluteUri,
            ["Licenzy:Stripe:AttemptTimeout"] = attemptTimeout,
            ["Licenzy:Stripe:MaxRetries"] = maxRetries.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Licenzy:Stripe:RetryBaseDelay"] = "00:00:00.001",
        }).Build();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs))
            .AddLicenzyStripe(configuration);
        var provider = services.BuildServiceProvider();
        providers.Add(provider);
        return provider.GetRequiredService<IStripeClient>();
    }

    private static CheckoutSessionCreate Subscription(string priceId = "price_monthly") => new()
    {
        Mode = CheckoutMode.Subscription,
        PriceId = priceId,
        ClientReferenceId = "att_1",
        SuccessUrl = "https://shop.example/ok?session={CHECKOUT_SESSION_ID}",
        CancelUrl = "https://shop.example/cancel",
        Metadata = new Dictionary<string, string> { ["licenzy_tenant"] = "ten_1", ["licenzy_subject"] = "user:42" },
    };

    // Reads

    [Fact]
    public async Task Balance_tells_the_mode_of_the_key()
    {
        var client = Client();

        Assert.False((await client.GetBalanceAsync(TestKey, default)).Livemode);
        Assert.True((await client.GetBalanceAsync(LiveKey, default)).Livemode);
        Assert.All(stripe.Requests, request => Assert.Equal("GET", request.Method));
        Assert.Equal(new[] { TestKey, LiveKey }, stripe.Requests.Select(request => request.SecretKey));
    }

    [Fact]
    public async Task Price_is_read_with_its_type_and_interval()
    {
        stripe.AddPrice("price_live_inactive", active: false, livemode: true, type: "recurring");
        var client = Client();

        var recurring = await client.GetPriceAsync(TestKey, "price_live_inactive", default);
        var oneTime = await client.GetPriceAsync(TestKey, "price_pack", default);

        Assert.Equal("price_live_inactive", recurring.Id);
        Assert.False(recurring.Active);
        Assert.True(recurring.Livemode);
        Assert.Equal(StripePrice.Recurring, recurring.Type);
        Assert.Equal("month", recurring.RecurringInterval);
        Assert.Equal("usd", recurring.Currency);
        Assert.Equal(1000, recurring.UnitAmount);
        Assert.Equal("prod_price_live_inactive", recurring.ProductId);
        Assert.True(oneTime.Active);
        Assert.Equal(StripePrice.OneTime, oneTime.Type);
        Assert.Null(oneTime.RecurringInterval);
    }

    [Fact]
    public async Task Price_id_is_escaped_into_the_path()
    {
        // No space: Stripe.net form-encodes the id (a space as '+'), and price ids have none (ProductRules).
        stripe.AddPrice("price_a+b?c#d");
        var client = Client();

        var price = await client.GetPriceAsync(TestKey, "price_a+b?c#d", default);

        Assert.Equal("price_a+b?c#d", price.Id);
        Assert.Equal(1, stripe.RequestCount("/v1/prices/price_a+b?c#d"));
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public async Task A_dot_segment_is_not_a_price_id_and_is_never_sent(string priceId)
    {
        var client = Client();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.GetPriceAsync(TestKey, priceId, default));

        Assert.Equal("priceId", error.ParamName);
        Assert.StartsWith("Not a Stripe price id.", error.Message);
        Assert.Empty(stripe.Requests);
    }

    // Errors Stripe answers with

    [Fact]
    public async Task An_unknown_key_is_an_authentication_error_and_is_not_retried()
    {
        var client = Client();

        var error = await Assert.ThrowsAsync<StripeApiException>(() => client.GetBalanceAsync("sk_test_unknown0000", default));

        Assert.True(error.IsAuthenticationError);
        Assert.False(error.IsNotFound);
        Assert.Equal(401, error.HttpStatus);
        Assert.Equal("invalid_request_error", error.ErrorType);
        Assert.StartsWith("Invalid API Key provided", error.Message);
        Assert.StartsWith("req_", error.RequestId);
        Assert.Equal(1, stripe.RequestCount(Balance));
    }

    [Fact]
    public async Task An_unknown_price_is_not_found_with_Stripes_code_and_param()
    {
        var client = Client();

        var error = await Assert.ThrowsAsync<StripeApiException>(() => client.GetPriceAsync(TestKey, "price_missing", default));

        Assert.True(error.IsNotFound);
        Assert.Equal("resource_missing", error.ErrorCode);
        Assert.Equal("id", error.Param);
        Assert.Equal("No such price: 'price_missing'", error.Message);
        Assert.Equal(1, stripe.RequestCount("/v1/prices/price_missing"));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(402)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(409)]
    public async Task Client_errors_are_not_retried(int status)
    {
        stripe.FailNext(Balance, 1, status);
        var client = Client();

        var error = await Assert.ThrowsAsync<StripeApiException>(() => client.GetBalanceAsync(TestKey, default));

        Assert.Equal(status, error.HttpStatus);
        Assert.Equal("api_error", error.ErrorType);
        Assert.Equal(1, stripe.RequestCount(Balance));
    }

    // Retries

    [Theory]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task Transient_statuses_are_retried_until_success(int status)
    {
        stripe.FailNext(Balance, 2, status);
        var client = Client(maxRetries: 2);

        var balance = await client.GetBalanceAsync(TestKey, default);

        Assert.False(balance.Livemode);
        Assert.Equal(3, stripe.RequestCount(Balance));
    }

    [Fact]
    public async Task After_the_last_retry_the_error_is_Stripes_answer()
    {
        stripe.FailNext(Balance, 3, 503);
        var client = Client(maxRetries: 2);

        var error = await Assert.ThrowsAsync<StripeApiException>(() => client.GetBalanceAsync(TestKey, default));

        Assert.Equal(503, error.HttpStatus);
        Assert.Equal("api_error", error.ErrorType);
        Assert.Equal("Stand-in failure injected by the test.", error.Message);
        Assert.Equal(3, stripe.RequestCount(Balance));
    }

    [Fact]
    public async Task Stripe_should_retry_false_stops_a_retry()
    {
        stripe.FailNext(Balance, 1, 503, shouldRetry: false);
        var client = Client();

        var error = await Assert.ThrowsAsync<StripeApiException>(() => client.GetBalanceAsync(TestKey, default));

        Assert.Equal(503, error.HttpStatus);
        Assert.Equal(1, stripe.RequestCount(Balance));
    }

    [Fact]
    public async Task Stripe_should_retry_true_retries_a_conflict()
    {
        stripe.FailNext(Balance, 1, 409, shouldRetry: true);
        var client = Client();

        await client.GetBalanceAsync(TestKey, default);

        Assert.Equal(2, stripe.RequestCount(Balance));
    }

    [Fact]
    public async Task No_retries_when_retrying_is_turned_off()
    {
        stripe.FailNext(Balance, 1, 503);
        var client = Client(maxRetries: 0);

        await Assert.ThrowsAsync<StripeApiException>(() => client.GetBalanceAsync(TestKey, default));

        Assert.Equal(1, stripe.RequestCount(Balance));
    }

    [Fact]
    public async Task A_dropped_connection_is_retried()
    {
        stripe.DropNext(Balance, 2);
        var client = Client(maxRetries: 2);

        await client.GetBalanceAsync(TestKey, default);

        Assert.Equal(3, stripe.RequestCount(Balance));
    }

    [Fact]
    public async Task Connections_dropped_on_every_attempt_make_Stripe_unavailable()
    {
        stripe.DropNext(Balance, 3);
        var client = Client(maxRetries: 2);

        var error = await Assert.ThrowsAsync<StripeUnavailableException>(() => client.GetBalanceAsync(TestKey, default));

        Assert.IsType<HttpRequestException>(error.InnerException);
        Assert.Equal("GET /v1/balance", error.Operation);
        Assert.Equal("Stripe did not answer GET /v1/balance: HttpRequestException", error.Message);
        Assert.Equal(3, stripe.RequestCount(Balance));
    }

    [Fact]
    public async Task A_slow_attempt_times_out_and_the_next_one_answers()
    {
        stripe.DelayNext(Balance, TimeSpan.FromMinutes(5));
        var client = Client(maxRetries: 1, attemptTimeout: "00:00:02");

        var balance = await client.GetBalanceAsync(TestKey, default);

        Assert.False(balance.Livemode);
        Assert.Equal(2, stripe.RequestCount(Balance));
    }

    [Fact]
    public async Task Every_attempt_timing_out_makes_Stripe_unavailable()
    {
        stripe.DelayNext(Balance, TimeSpan.FromMinutes(5));
        stripe.DelayNext(Balance, TimeSpan.FromMinutes(5));
        var client = Client(maxRetries: 1, attemptTimeout: "00:00:00.200");

        var error = await Assert.ThrowsAsync<StripeUnavailableException>(() => client.GetBalanceAsync(TestKey, default));

        Assert.IsType<TimeoutRejectedException>(error.InnerException);
        Assert.Equal(2, stripe.RequestCount(Balance));
    }

    [Fact]
    public async Task Unavailability_names_the_operation_and_is_logged_for_operators()
    {
        stripe.DropNext("/v1/prices/price_pack");
        stripe.DropNext(Sessions);
        var client = Client(maxRetries: 0);

        var price = await Assert.ThrowsAsync<StripeUnavailableException>(() => client.GetPriceAsync(TestKey, "price_pack", default));
        var checkout = await Assert.ThrowsAsync<StripeUnavailableException>(() =>
            client.CreateCheckoutSessionAsync(TestKey, Subscription(), "idem_down", default));

        Assert.Equal("GET /v1/prices/{id}", price.Operation);
        Assert.Equal("POST /v1/checkout/sessions", checkout.Operation);
        Assert.Contains(logs.Entries, entry =>
            entry.StartsWith("Warning", StringComparison.Ordinal) && entry.Contains("Stripe GET /v1/prices/{id} got no answer: HttpRequestException", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, entry =>
            entry.StartsWith("Warning", StringComparison.Ordinal) && entry.Contains("Stripe POST /v1/checkout/sessions got no answer: HttpRequestException", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Each_retry_is_logged_with_the_operation_the_attempt_that_failed_and_why()
    {
        stripe.FailNext(Balance, 1, 503);
        stripe.DropNext(Balance);
        var client = Client(maxRetries: 2);

        await client.GetBalanceAsync(TestKey, default);

        var retries = logs.Entries.Where(entry => entry.Contains("retrying in", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, retries.Count);
        Assert.Contains("Stripe GET /v1/balance attempt 1 failed with HTTP 503; retrying in", retries[0]);
        Assert.Contains("Stripe GET /v1/balance attempt 2 failed with HttpRequestException; retrying in", retries[1]);
    }

    [Fact]
    public async Task The_callers_cancellation_is_not_turned_into_unavailability()
    {
        var client = Client();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetBalanceAsync(TestKey, cancelled.Token));
    }

    // The circuit breaker

    [Fact]
    public async Task After_Stripe_failed_most_calls_the_next_ones_fail_fast_without_reaching_it()
    {
        // The breaker looks at least 100 calls back (Microsoft.Extensions.Http.Resilience's default).
        stripe.FailNext(Balance, 100, 500);
        var client = Client(maxRetries: 0);
        for (var i = 0; i < 100; i++)
        {
            await Assert.ThrowsAsync<StripeApiException>(() => client.GetBalanceAsync(TestKey, default));
        }

        var error = await Assert.ThrowsAsync<StripeUnavailableException>(() => client.GetBalanceAsync(TestKey, default));

        Assert.IsType<BrokenCircuitException>(error.InnerException);
        Assert.Equal(100, stripe.RequestCount(Balance));
        Assert.Contains(logs.Entries, entry => entry.StartsWith("Error", StringComparison.Ordinal)
            && entry.Contains("Calls to Stripe fail too often (HTTP 500 the last); none is sent for 00:00:05", StringComparison.Ordinal));
    }

    [Fact]
    public async Task One_tenants_rate_limit_does_not_cut_the_others_off()
    {
        stripe.FailNext(Balance, 100, 429);
        var client = Client(maxRetries: 0);
        for (var i = 0; i < 100; i++)
        {
            await Assert.ThrowsAsync<StripeApiException>(() => client.GetBalanceAsync(TestKey, default));
        }

        Assert.False((await client.GetBalanceAsync(TestKey, default)).Livemode);
        Assert.Equal(101, stripe.RequestCount(Balance));
    }

    // Checkout sessions

    [Fact]
    public async Task Subscription_checkout_puts_metadata_on_the_session_and_the_subscription()
    {
        var client = Client();

        var session = await client.CreateCheckoutSessionAsync(TestKey, Subscription(), "idem_sub_1", default);

        var sent = Assert.Single(stripe.CheckoutSessions);
        Assert.Equal(TestKey, sent.SecretKey);
        Assert.Equal(new Dictionary<string, string>
        {
            ["mode"] = "subscription",
            ["line_items[0][price]"] = "price_monthly",
            ["line_items[0][quantity]"] = "1",
            ["success_url"] = "https://shop.example/ok?session={CHECKOUT_SESSION_ID}",
            ["cancel_url"] = "https://shop.example/cancel",
            ["client_reference_id"] = "att_1",
            ["metadata[licenzy_subject]"] = "user:42",
            ["metadata[licenzy_tenant]"] = "ten_1",
            ["subscription_data[metadata][licenzy_subject]"] = "user:42",
            ["subscription_data[metadata][licenzy_tenant]"] = "ten_1",
        }, sent.Form);
        Assert.Equal(sent.Id, session.Id);
        Assert.StartsWith("cs_test_", session.Id);
        Assert.Equal(new Uri(stripe.BaseUrl, $"pay/{session.Id}").AbsoluteUri, session.Url);
        Assert.False(session.Livemode);
        Assert.Equal("subscription", session.Mode);
        Assert.Equal("open", session.Status);
        Assert.Equal("unpaid", session.PaymentStatus);
        Assert.Equal("idem_sub_1", Assert.Single(stripe.Requests).IdempotencyKey);
    }

    [Fact]
    public async Task Payment_checkout_puts_metadata_on_the_payment_intent_and_leaves_out_unset_urls()
    {
        var client = Client();
        var request = new CheckoutSessionCreate
        {
            Mode = CheckoutMode.Payment,
            PriceId = "price_pack",
            Quantity = 3,
            ClientReferenceId = "att_2",
            Metadata = new Dictionary<string, string> { ["licenzy_attempt"] = "att_2" },
        };

        var session = await client.CreateCheckoutSessionAsync(LiveKey, request, "idem_pay_1", default);

        var sent = Assert.Single(stripe.CheckoutSessions);
        Assert.Equal(new Dictionary<string, string>
        {
            ["mode"] = "payment",
            ["line_items[0][price]"] = "price_pack",
            ["line_items[0][quantity]"] = "3",
            ["client_reference_id"] = "att_2",
            ["metadata[licenzy_attempt]"] = "att_2",
            ["payment_intent_data[metadata][licenzy_attempt]"] = "att_2",
        }, sent.Form);
        Assert.StartsWith("cs_live_", session.Id);
        Assert.True(session.Livemode);
        Assert.Equal("payment", session.Mode);
    }

    [Fact]
    public async Task Empty_urls_client_reference_and_metadata_are_left_out_not_sent_empty()
    {
        // An empty string would go out as an empty field, and Stripe reads an empty metadata field as "clear it".
        var client = Client();
        var request = new CheckoutSessionCreate
        {
            Mode = CheckoutMode.Subscription, PriceId = "price_monthly", ClientReferenceId = "", SuccessUrl = "", CancelUrl = "",
        };

        await client.CreateCheckoutSessionAsync(TestKey, request, "idem_bare", default);

        Assert.Equal(new Dictionary<string, string>
        {
            ["mode"] = "subscription",
            ["line_items[0][price]"] = "price_monthly",
            ["line_items[0][quantity]"] = "1",
        }, Assert.Single(stripe.CheckoutSessions).Form);
    }

    [Fact]
    public async Task An_unknown_checkout_mode_is_refused_before_sending()
    {
        var client = Client();

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            client.CreateCheckoutSessionAsync(TestKey, Subscription() with { Mode = (CheckoutMode)7 }, "idem_mode", default));

        Assert.StartsWith("Unknown checkout mode.", error.Message);
        Assert.Empty(stripe.Requests);
    }

    [Fact]
    public async Task An_idempotency_key_may_be_as_long_as_Stripes_255_characters_and_no_longer()
    {
        var client = Client();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            client.CreateCheckoutSessionAsync(TestKey, Subscription(), new string('k', 256), default));
        await client.CreateCheckoutSessionAsync(TestKey, Subscription(), new string('k', 255), default);

        Assert.Equal(new string('k', 255), Assert.Single(stripe.Requests).IdempotencyKey);
    }

    [Fact]
    public async Task A_checkout_post_is_retried_with_the_same_idempotency_key()
    {
        stripe.FailNext(Sessions, 1, 500);
        stripe.DropNext(Sessions);
        var client = Client(maxRetries: 2);

        var session = await client.CreateCheckoutSessionAsync(TestKey, Subscription(), "idem_retry", default);

        Assert.Equal(3, stripe.RequestCount(Sessions));
        Assert.All(stripe.Requests, request => Assert.Equal("idem_retry", request.IdempotencyKey));
        Assert.Equal(session.Id, Assert.Single(stripe.CheckoutSessions).Id);
    }

    [Fact]
    public async Task The_same_idempotency_key_and_request_give_back_the_same_session()
    {
        var client = Client();

        var first = await client.CreateCheckoutSessionAsync(TestKey, Subscription(), "idem_same", default);
        var second = await client.CreateCheckoutSessionAsync(TestKey, Subscription(), "idem_same", default);

        Assert.Equal(first, second);
        Assert.Single(stripe.CheckoutSessions);
    }

    [Fact]
    public async Task The_same_idempotency_key_with_another_request_is_an_idempotency_error_not_retried()
    {
        var client = Client();
        await client.CreateCheckoutSessionAsync(TestKey, Subscription(), "idem_clash", default);

        var error = await Assert.ThrowsAsync<StripeApiException>(() =>
            client.CreateCheckoutSessionAsync(TestKey, Subscription() with { Quantity = 2 }, "idem_clash", default));

        Assert.Equal(400, error.HttpStatus);
        Assert.Equal("idempotency_error", error.ErrorType);
        Assert.True(error.IsIdempotencyMismatch);
        Assert.Equal(2, stripe.RequestCount(Sessions));
    }

    [Fact]
    public async Task A_checkout_for_a_missing_price_is_Stripes_invalid_request()
    {
        var client = Client();

        var error = await Assert.ThrowsAsync<StripeApiException>(() =>
            client.CreateCheckoutSessionAsync(TestKey, Subscription("price_gone"), "idem_gone", default));

        Assert.Equal(400, error.HttpStatus);
        Assert.Equal("resource_missing", error.ErrorCode);
        Assert.Equal("line_items[0][price]", error.Param);
        Assert.False(error.IsIdempotencyMismatch); // a 400, but not about the key
        Assert.Equal(1, stripe.RequestCount(Sessions));
    }

    [Fact]
    public async Task Nothing_is_sent_without_a_secret_key_or_an_idempotency_key()
    {
        var client = Client();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.GetBalanceAsync("", default));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.GetPriceAsync(TestKey, "", default));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.GetPriceAsync(TestKey, "..", default));
        await Assert.ThrowsAsync<ArgumentNullException>(() => client.CreateCheckoutSessionAsync(TestKey, null!, "idem_null", default));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            client.CreateCheckoutSessionAsync(TestKey, Subscription(priceId: " "), "idem_no_price", default));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.CreateCheckoutSessionAsync(TestKey, Subscription(), "", default));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => client.CreateCheckoutSessionAsync(TestKey, Subscription(), " ", default));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            client.CreateCheckoutSessionAsync(TestKey, Subscription() with { Quantity = 0 }, "idem_q0", default));

        Assert.Empty(stripe.Requests);
    }

    // Webhook endpoints

    [Fact]
    public async Task A_webhook_endpoint_is_created_for_the_url_and_events_and_its_secret_comes_back_once()
    {
        var client = Client();
        string[] events = ["checkout.session.completed", "invoice.paid", "charge.refunded"];

        var created = await client.CreateWebhookEndpointAsync(TestKey, "https://licenzy.example/v1/webhooks/stripe/ten_1/test", events, default);
        var found = await client.FindWebhookEndpointAsync(TestKey, created.Id, default);

        var held = Assert.Single(stripe.WebhookEndpoints);
        Assert.Equal(held.Id, created.Id);
        Assert.StartsWith("we_", created.Id);
        Assert.Equal("https://licenzy.example/v1/webhooks/stripe/ten_1/test", held.Url);
        Assert.Equal(events, held.EnabledEvents);
        Assert.Equal(global::Stripe.StripeConfiguration.ApiVersion, held.ApiVersion);
        Assert.Equal(held.Secret, created.Secret);
        Assert.StartsWith("whsec_", created.Secret);
        Assert.Equal(events, created.EnabledEvents);
        Assert.NotNull(found);
        Assert.Equal(created.Id, found.Id);
        Assert.Null(found.Secret);
    }

    [Fact]
    public async Task An_endpoint_deleted_at_Stripe_or_of_another_account_is_not_found()
    {
        var client = Client();
        var created = await client.CreateWebhookEndpointAsync(TestKey, "https://licenzy.example/hook", ["invoice.paid"], default);

        Assert.Null(await client.FindWebhookEndpointAsync(LiveKey, created.Id, default));
        Assert.True(stripe.DeleteWebhookEndpoint(created.Id));
        Assert.Null(await client.FindWebhookEndpointAsync(TestKey, created.Id, default));
    }

    [Fact]
    public async Task Creating_a_webhook_endpoint_with_a_rejected_key_is_an_authentication_error()
    {
        var client = Client();

        var failure = await Assert.ThrowsAsync<StripeApiException>(() =>
            client.CreateWebhookEndpointAsync("sk_test_rejected0key", "https://licenzy.example/hook", ["invoice.paid"], default));

        Assert.True(failure.IsAuthenticationError);
        Assert.Empty(stripe.WebhookEndpoints);
    }

    // Logs

    [Fact]
    public async Task The_secret_key_is_never_logged()
    {
        stripe.FailNext(Sessions, 1, 503);
        stripe.FailNext(Balance, 1, 500, shouldRetry: false);
        var client = Client();

        await client.CreateCheckoutSessionAsync(TestKey, Subscription(), "idem_logs", default);
        await Assert.ThrowsAsync<StripeApiException>(() => client.GetBalanceAsync(TestKey, default));
        await Assert.ThrowsAsync<StripeApiException>(() => client.GetBalanceAsync("sk_test_rejected0key", default));

        Assert.Contains(logs.Entries, entry => entry.Contains("retrying", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, entry => entry.Contains("answered 401", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, entry => entry.Contains("sk_test_", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, entry => entry.Contains("user:42", StringComparison.Ordinal)); // no bodies
    }
}

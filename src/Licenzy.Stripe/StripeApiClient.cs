using System.Net;
using Microsoft.Extensions.Logging;
using Polly;
using StripeNet = global::Stripe;

namespace Licenzy.Stripe;

/// <summary>
/// Licenzy's Stripe calls, made through the app's one Stripe.net client. Each tenant and mode has
/// its own secret key, so the key travels with each request (<see cref="StripeNet.RequestOptions.ApiKey"/>),
/// not with the client. Stripe.net's failures come out as Licenzy's own exceptions, so the apps
/// never see a Stripe.net type.
/// </summary>
public sealed partial class StripeApiClient(StripeNet.StripeClient stripe, ILogger<StripeApiClient> logger) : IStripeClient
{
    /// <summary>The <see cref="IHttpClientFactory"/> client Stripe.net sends through, with the resilience pipeline on it.</summary>
    public const string HttpClientName = "Licenzy.Stripe";

    // Stripe's documented limit for an Idempotency-Key.
    private const int MaxIdempotencyKeyLength = 255;

    public Task<StripeBalance> GetBalanceAsync(string secretKey, CancellationToken ct) =>
        CallAsync("GET /v1/balance", async () =>
        {
            var balance = await stripe.V1.Balance.GetAsync(OnKey(secretKey), ct);
            return new StripeBalance(balance.Livemode);
        }, ct);

    public Task<StripePrice> GetPriceAsync(string secretKey, string priceId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(priceId);
        if (priceId is "." or "..")
        {
            // Escaping leaves dot segments alone, and they would change the path.
            throw new ArgumentException("Not a Stripe price id.", nameof(priceId));
        }

        var onKey = OnKey(secretKey);
        return CallAsync("GET /v1/prices/{id}", async () =>
        {
            var price = await stripe.V1.Prices.GetAsync(priceId, options: null, onKey, ct);
            return new StripePrice
            {
                Id = price.Id, Active = price.Active, Livemode = price.Livemode, Type = price.Type, Currency = price.Currency,
                UnitAmount = price.UnitAmount, ProductId = price.ProductId, RecurringInterval = price.Recurring?.Interval,
            };
        }, ct);
    }

    public Task<StripeCheckoutSession> CreateCheckoutSessionAsync(
        string secretKey, CheckoutSessionCreate request, string idempotencyKey, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.PriceId);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.Quantity, 1);
        // Licenzy's key is what makes a retry (here or by the caller) reach the same session.
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(idempotencyKey.Length, MaxIdempotencyKeyLength);

        var onKey = OnKey(secretKey);
        onKey.IdempotencyKey = idempotencyKey;
        var options = CheckoutSessionOptions(request);
        return CallAsync("POST /v1/checkout/sessions", async () =>
        {
            var session = await stripe.V1.Checkout.Sessions.CreateAsync(options, onKey, ct);
            return new StripeCheckoutSession
            {
                Id = session.Id, Url = session.Url, Livemode = session.Livemode, Mode = session.Mode, Status = session.Status,
                PaymentStatus = session.PaymentStatus,
            };
        }, ct);
    }

    public Task<StripeWebhookEndpoint> CreateWebhookEndpointAsync(
        string secretKey, string url, IReadOnlyCollection<string> enabledEvents, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        ArgumentNullException.ThrowIfNull(enabledEvents);
        ArgumentOutOfRangeException.ThrowIfZero(enabledEvents.Count);

        var onKey = OnKey(secretKey);
        var options = new StripeNet.WebhookEndpointCreateOptions
        {
            Url = url,
            EnabledEvents = [.. enabledEvents],
            // Events rendered in the version Stripe.net's types are made for; Licenzy reads older ones too (010).
            ApiVersion = StripeNet.StripeConfiguration.ApiVersion,
        };
        return CallAsync("POST /v1/webhook_endpoints", async () =>
            WebhookEndpointOf(await stripe.V1.WebhookEndpoints.CreateAsync(options, onKey, ct)), ct);
    }

    public Task<StripeWebhookEndpoint?> FindWebhookEndpointAsync(string secretKey, string endpointId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpointId);
        if (endpointId is "." or "..") throw new ArgumentException("Not a Stripe webhook endpoint id.", nameof(endpointId));

        var onKey = OnKey(secretKey);
        return CallAsync("GET /v1/webhook_endpoints/{id}", async () =>
        {
            try
            {
                var endpoint = await stripe.V1.WebhookEndpoints.GetAsync(endpointId, options: null, onKey, ct);
                return endpoint.Deleted == true ? null : WebhookEndpointOf(endpoint);
            }
            catch (StripeNet.StripeException e) when (e.HttpStatusCode == HttpStatusCode.NotFound)
            {
                // Deleted at Stripe (by hand, or by another tool): for the caller that is "gone", not a failure.
                return (StripeWebhookEndpoint?)null;
            }
        }, ct);
    }

    private static StripeWebhookEndpoint WebhookEndpointOf(StripeNet.WebhookEndpoint endpoint) => new()
    {
        Id = endpoint.Id, Url = endpoint.Url, EnabledEvents = [.. endpoint.EnabledEvents ?? []], Livemode = endpoint.Livemode,
        Status = endpoint.Status, Secret = endpoint.Secret,
    };

    private static StripeNet.Checkout.SessionCreateOptions CheckoutSessionOptions(CheckoutSessionCreate request)
    {
        var options = new StripeNet.Checkout.SessionCreateOptions
        {
            Mode = request.Mode switch
            {
                CheckoutMode.Subscription => "subscription",
                CheckoutMode.Payment => "payment",
                _ => throw new ArgumentOutOfRangeException(nameof(request), request.Mode, "Unknown checkout mode."),
            },
            LineItems = [new() { Price = request.PriceId, Quantity = request.Quantity }],
            SuccessUrl = NullIfEmpty(request.SuccessUrl),
            CancelUrl = NullIfEmpty(request.CancelUrl),
            ClientReferenceId = NullIfEmpty(request.ClientReferenceId),
            Metadata = MetadataOf(request),
        };

        // The same metadata also goes on the object the session creates, because later
        // subscription, invoice and charge events carry that object's metadata, not the session's.
        if (request.Mode == CheckoutMode.Subscription)
            options.SubscriptionData = new() { Metadata = MetadataOf(request) };
        else
            options.PaymentIntentData = new() { Metadata = MetadataOf(request) };
        return options;
    }

    // Stripe.net's options take a Dictionary of their own; an empty one goes out as no field at all.
    private static Dictionary<string, string> MetadataOf(CheckoutSessionCreate request) =>
        new(request.Metadata, StringComparer.Ordinal);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static StripeNet.RequestOptions OnKey(string secretKey)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(secretKey);
        return new StripeNet.RequestOptions { ApiKey = secretKey };
    }

    private async Task<T> CallAsync<T>(string operation, Func<Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await call();
        }
        catch (StripeNet.StripeException e)
        {
            throw ToLicenzy(operation, e);
        }
        catch (Exception e) when (e is HttpRequestException or ExecutionRejectedException
                                  || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            // No answer after the pipeline's retries: the connection failed, every attempt timed
            // out, or the circuit is open.
            LogUnavailable(logger, operation, e.GetType().Name);
            throw new StripeUnavailableException(operation, e);
        }
    }

    private StripeException ToLicenzy(string operation, StripeNet.StripeException e)
    {
        var status = (int)e.HttpStatusCode;
        if (e.HttpStatusCode == HttpStatusCode.OK)
        {
            // Stripe.net's message quotes the whole body; the reason must not.
            return new StripePayloadException($"Stripe answered {operation} with a body that is not a Stripe object");
        }

        var error = e.StripeError;
        var requestId = e.StripeResponse?.RequestId;
        LogError(logger, operation, status, error?.Type, error?.Code, requestId);
        return new StripeApiException(status, error?.Type, error?.Code,
            error?.Message ?? $"Stripe answered {operation} with HTTP {status}", error?.Param, requestId);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stripe {Operation} got no answer: {Failure}")]
    private static partial void LogUnavailable(ILogger logger, string operation, string failure);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Stripe {Operation} answered {Status} {ErrorType} {ErrorCode} (request {RequestId})")]
    private static partial void LogError(
        ILogger logger, string operation, int status, string? errorType, string? errorCode, string? requestId);
}

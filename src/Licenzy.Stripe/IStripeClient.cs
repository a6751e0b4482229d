namespace Licenzy.Stripe;

/// <summary>
/// The Stripe calls Licenzy makes. The secret key is passed per call because each tenant and
/// mode has its own. Failures throw <see cref="StripeApiException"/> (Stripe answered with an
/// error), <see cref="StripeUnavailableException"/> (no answer after retries) or
/// <see cref="StripePayloadException"/> (an answer Licenzy cannot read).
/// </summary>
public interface IStripeClient
{
    /// <summary><c>GET /v1/balance</c>: proves the key works and tells its mode.</summary>
    Task<StripeBalance> GetBalanceAsync(string secretKey, CancellationToken ct);

    /// <summary><c>GET /v1/prices/{id}</c>.</summary>
    Task<StripePrice> GetPriceAsync(string secretKey, string priceId, CancellationToken ct);

    /// <summary>
    /// <c>POST /v1/checkout/sessions</c>. The idempotency key makes the call safe to retry, here
    /// and by the caller: the same key and request give back the same session.
    /// </summary>
    Task<StripeCheckoutSession> CreateCheckoutSessionAsync(
        string secretKey, CheckoutSessionCreate request, string idempotencyKey, CancellationToken ct);

    /// <summary>
    /// <c>POST /v1/webhook_endpoints</c>: an endpoint at <paramref name="url"/> for
    /// <paramref name="enabledEvents"/>. Only this answer carries the endpoint's signing secret.
    /// </summary>
    Task<StripeWebhookEndpoint> CreateWebhookEndpointAsync(
        string secretKey, string url, IReadOnlyCollection<string> enabledEvents, CancellationToken ct);

    /// <summary><c>GET /v1/webhook_endpoints/{id}</c>, or null when the account has no such endpoint (deleted, or another account's).</summary>
    Task<StripeWebhookEndpoint?> FindWebhookEndpointAsync(string secretKey, string endpointId, CancellationToken ct);
}

using Licenzy.Api.Http;
using Licenzy.Domain;
using Licenzy.Domain.Products;

namespace Licenzy.Api.Setup;

/// <summary>What the setup API says when Stripe disagrees with an operator's settings.</summary>
public static class StripeErrors
{
    public static ApiError ModeMismatch(Mode mode, string what) =>
        new(400, "stripe_mode_mismatch", "Stripe mode mismatch",
            $"This Stripe {what} belongs to {(mode == Mode.Live ? "test" : "live")} mode, but it was given for {mode.ToWire()} mode.");

    /// <summary>Stripe's own reason is passed on (it shows a key only masked): the sandbox, for one, says why it refuses live keys.</summary>
    public static ApiError KeyInvalid(string? stripeMessage = null) =>
        new(400, "stripe_key_invalid", "Stripe rejected the key",
            "Stripe did not accept this secret key. Check it in the Stripe dashboard."
            + (string.IsNullOrWhiteSpace(stripeMessage) ? "" : $" Stripe said: {stripeMessage}"));

    public static ApiError PriceInactive(string priceId) =>
        new(400, "stripe_price_inactive", "Stripe price inactive", $"The Stripe price '{priceId}' is archived. Activate it or use another.");

    public static ApiError PriceTypeMismatch(ProductKind kind, string priceType) =>
        new(400, "stripe_price_type_mismatch", "Stripe price type mismatch",
            kind == ProductKind.Subscription
                ? $"A subscription needs a recurring Stripe price; this one is {priceType}."
                : $"A time pass or usage pack needs a one-time Stripe price; this one is {priceType}.");

    /// <summary>Registering an endpoint needs the address Stripe will call; guessing it from the setup request could register a private one.</summary>
    public static ApiError PublicBaseUrlNotSet() =>
        new(400, "public_base_url_not_set", "Public base URL not set",
            "Licenzy cannot register a Stripe webhook endpoint without knowing the address Stripe reaches it at. "
            + "Set Licenzy:PublicBaseUrl (environment Licenzy__PublicBaseUrl), or send webhook_secret for an endpoint you made yourself.");

    public static ApiError PriceNotFound(string priceId) =>
        new(400, "stripe_price_not_found", "Stripe price not found", $"Stripe has no price '{priceId}' in this account and mode.");
}

/// <summary>Recognises Stripe secret key shapes without calling Stripe.</summary>
public static class StripeKeys
{
    public static bool IsSecretKey(string key) =>
        key.StartsWith("sk_test_", StringComparison.Ordinal) || key.StartsWith("sk_live_", StringComparison.Ordinal)
        || key.StartsWith("rk_test_", StringComparison.Ordinal) || key.StartsWith("rk_live_", StringComparison.Ordinal);

    public static bool IsLive(string key) => key.StartsWith("sk_live_", StringComparison.Ordinal) || key.StartsWith("rk_live_", StringComparison.Ordinal);
}

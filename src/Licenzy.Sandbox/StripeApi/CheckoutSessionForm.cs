using System.Globalization;
using Licenzy.Sandbox.Account;
using Licenzy.Sandbox.Checkout;

namespace Licenzy.Sandbox.StripeApi;

/// <summary>
/// A <c>POST /v1/checkout/sessions</c> form, checked the way Stripe checks it for the parameters
/// the sandbox supports: one line item with a price id, the buyer's email, and metadata on the
/// session and on the subscription or payment intent. Other parameters are accepted and ignored.
/// </summary>
public sealed record CheckoutSessionForm
{
    // Stripe's metadata limits.
    private const int MaxMetadataKeys = 50;
    private const int MaxMetadataKeyLength = 40;
    private const int MaxMetadataValueLength = 500;
    private const int MaxUrlLength = 5000;
    private const int MaxClientReferenceIdLength = 200;
    private const long MaxQuantity = 999_999;

    private const string PriceParam = "line_items[0][price]";
    private const string QuantityParam = "line_items[0][quantity]";

    public required string Mode { get; init; }
    public required SandboxPrice Price { get; init; }
    public required long Quantity { get; init; }
    public string? SuccessUrl { get; init; }
    public string? CancelUrl { get; init; }
    public string? ClientReferenceId { get; init; }

    /// <summary>The buyer's email, when the shop knows it already: the checkout page fills it in.</summary>
    public string? CustomerEmail { get; init; }

    public required IReadOnlyDictionary<string, string> Metadata { get; init; }
    public required IReadOnlyDictionary<string, string> ObjectMetadata { get; init; }

    /// <summary>Reads the form against the account's prices; the error is what Stripe would answer.</summary>
    public static (CheckoutSessionForm? Form, StripeError? Error) Read(IReadOnlyDictionary<string, string> form, IReadOnlyDictionary<string, SandboxPrice> prices)
    {
        var mode = form.GetValueOrDefault("mode");
        if (string.IsNullOrEmpty(mode)) return (null, StripeError.Missing("mode"));
        if (mode is not (CheckoutModes.Payment or CheckoutModes.Subscription))
        {
            return (null, StripeError.Invalid("mode", mode == "setup"
                ? "The Licenzy sandbox supports mode=payment and mode=subscription, not setup."
                : $"Invalid mode: must be one of payment, setup, or subscription (got '{mode}')."));
        }

        if (form.Keys.Any(key => key.StartsWith("line_items[", StringComparison.Ordinal) && !key.StartsWith("line_items[0]", StringComparison.Ordinal)))
        {
            return (null, StripeError.Invalid("line_items", "The Licenzy sandbox takes one line item, line_items[0]."));
        }

        var priceId = form.GetValueOrDefault(PriceParam);
        if (string.IsNullOrEmpty(priceId))
        {
            return (null, form.Keys.Any(key => key.StartsWith("line_items[0][price_data]", StringComparison.Ordinal))
                ? StripeError.Invalid(PriceParam, "The Licenzy sandbox takes line_items[0][price], the id of a price; price_data is not supported.")
                : StripeError.Missing(PriceParam));
        }

        if (!prices.TryGetValue(priceId, out var price)) return (null, StripeError.NoSuchPrice(priceId, PriceParam, 400));
        if (!price.Active)
        {
            return (null, StripeError.Invalid(PriceParam, $"The price '{priceId}' is not active. Checkout takes active prices only."));
        }

        if (mode == CheckoutModes.Payment && price.IsRecurring)
        {
            return (null, StripeError.Invalid(PriceParam, $"The price '{priceId}' is recurring, so it needs mode=subscription, not payment."));
        }

        if (mode == CheckoutModes.Subscription && !price.IsRecurring)
        {
            return (null, StripeError.Invalid(PriceParam, $"mode=subscription needs a recurring price; '{priceId}' is one-time."));
        }

        long quantity = 1;
        if (form.TryGetValue(QuantityParam, out var quantityText)
            && (!long.TryParse(quantityText, NumberStyles.None, CultureInfo.InvariantCulture, out quantity) || quantity is < 1 or > MaxQuantity))
        {
            return (null, StripeError.Invalid(QuantityParam, $"Invalid integer: {quantityText}. The quantity must be between 1 and {MaxQuantity}."));
        }

        var objectData = mode == CheckoutModes.Subscription ? "subscription_data" : "payment_intent_data";
        var otherData = mode == CheckoutModes.Subscription ? "payment_intent_data" : "subscription_data";
        if (form.Keys.Any(key => key.StartsWith(otherData + "[", StringComparison.Ordinal)))
        {
            return (null, StripeError.Invalid(otherData, $"You can not pass `{otherData}` in `{mode}` mode."));
        }

        var (successUrl, successError) = Url(form, "success_url");
        if (successError is not null) return (null, successError);
        var (cancelUrl, cancelError) = Url(form, "cancel_url");
        if (cancelError is not null) return (null, cancelError);

        var clientReferenceId = form.GetValueOrDefault("client_reference_id");
        if (clientReferenceId is { Length: > MaxClientReferenceIdLength })
        {
            return (null, StripeError.Invalid("client_reference_id", $"client_reference_id must be at most {MaxClientReferenceIdLength} characters."));
        }

        var customerEmailText = form.GetValueOrDefault("customer_email");
        var customerEmail = BuyerEmail.Read(customerEmailText);
        if (!string.IsNullOrEmpty(customerEmailText) && customerEmail is null)
        {
            return (null, StripeError.Invalid("customer_email", "Invalid email address: customer_email must be one email address."));
        }

        var (metadata, metadataError) = ReadMetadata(form, "metadata");
        if (metadataError is not null) return (null, metadataError);
        var (objectMetadata, objectMetadataError) = ReadMetadata(form, $"{objectData}[metadata]");
        if (objectMetadataError is not null) return (null, objectMetadataError);

        return (new CheckoutSessionForm
        {
            Mode = mode, Price = price, Quantity = quantity, SuccessUrl = successUrl, CancelUrl = cancelUrl,
            ClientReferenceId = string.IsNullOrEmpty(clientReferenceId) ? null : clientReferenceId,
            CustomerEmail = customerEmail,
            Metadata = metadata!, ObjectMetadata = objectMetadata!,
        }, null);
    }

    private static (string? Url, StripeError? Error) Url(IReadOnlyDictionary<string, string> form, string param)
    {
        var text = form.GetValueOrDefault(param);
        if (string.IsNullOrEmpty(text)) return (null, null);
        return text.Length <= MaxUrlLength
               && Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? (text, null)
            : (null, StripeError.Invalid(param, $"Not a valid URL: {param} must be an absolute http or https URL."));
    }

    /// <summary>The <c>prefix[key]</c> entries of the form, within Stripe's limits.</summary>
    private static (IReadOnlyDictionary<string, string>? Metadata, StripeError? Error) ReadMetadata(IReadOnlyDictionary<string, string> form, string prefix)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in form)
        {
            if (!name.StartsWith(prefix + "[", StringComparison.Ordinal) || !name.EndsWith(']')) continue;
            var key = name[(prefix.Length + 1)..^1];
            if (key.Length is 0 or > MaxMetadataKeyLength || key.Contains('[') || key.Contains(']'))
            {
                return (null, StripeError.Invalid(name, $"Metadata keys must be 1 to {MaxMetadataKeyLength} characters without square brackets."));
            }

            if (value.Length > MaxMetadataValueLength)
            {
                return (null, StripeError.Invalid(name, $"Metadata values can have up to {MaxMetadataValueLength} characters."));
            }

            // Stripe drops a key sent with an empty value.
            if (value.Length > 0) metadata[key] = value;
        }

        return metadata.Count > MaxMetadataKeys
            ? (null, StripeError.Invalid(prefix, $"Metadata can have up to {MaxMetadataKeys} keys."))
            : (metadata, null);
    }
}

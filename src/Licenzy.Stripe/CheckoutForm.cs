namespace Licenzy.Stripe;

/// <summary>Stripe's form encoding of a <see cref="CheckoutSessionCreate"/>.</summary>
internal static class CheckoutForm
{
    public static IReadOnlyList<KeyValuePair<string, string>> Encode(CheckoutSessionCreate request)
    {
        var mode = request.Mode switch
        {
            CheckoutMode.Subscription => "subscription",
            CheckoutMode.Payment => "payment",
            _ => throw new ArgumentOutOfRangeException(nameof(request), request.Mode, "Unknown checkout mode."),
        };

        var form = new List<KeyValuePair<string, string>>
        {
            new("mode", mode),
            new("line_items[0][price]", request.PriceId),
            new("line_items[0][quantity]", request.Quantity.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        Add(form, "success_url", request.SuccessUrl);
        Add(form, "cancel_url", request.CancelUrl);
        Add(form, "client_reference_id", request.ClientReferenceId);

        // The same metadata also goes on the object the session creates, because later
        // subscription, invoice and charge events carry that object's metadata, not the session's.
        var objectMetadata = request.Mode == CheckoutMode.Subscription
            ? "subscription_data[metadata]"
            : "payment_intent_data[metadata]";
        // Sorted so that the same request always encodes to the same body.
        foreach (var (key, value) in request.Metadata.OrderBy(entry => entry.Key, StringComparer.Ordinal))
        {
            form.Add(new($"metadata[{key}]", value));
            form.Add(new($"{objectMetadata}[{key}]", value));
        }

        return form;
    }

    private static void Add(List<KeyValuePair<string, string>> form, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            form.Add(new(name, value));
        }
    }
}

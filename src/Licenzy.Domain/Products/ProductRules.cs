using System.Text.RegularExpressions;

namespace Licenzy.Domain.Products;

/// <summary>What makes a product definition valid, independent of what Stripe says about its price.</summary>
public static partial class ProductRules
{
    public const int DefaultGracePeriodDays = 7;
    public static readonly IReadOnlyList<int> AllowedGracePeriodDays = [0, 3, 7, 30];
    public const int MaxPaymentFailureGraceDays = 30;
    public const int MaxDurationDays = 3650;
    public const long MaxUsageUnits = 1_000_000_000;
    public const int MaxFeatures = 100;
    public const int MaxNameLength = 128;

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\z")]
    private static partial Regex CodePattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}\z")]
    private static partial Regex FeaturePattern();

    [GeneratedRegex(@"^price_[A-Za-z0-9_]{1,250}\z")]
    private static partial Regex PricePattern();

    /// <summary>True when a string looks like a Stripe price id rather than a Licenzy product code.</summary>
    public static bool LooksLikeStripePriceId(string value) => value.StartsWith("price_", StringComparison.Ordinal);

    /// <summary>Every problem with a product definition, as (field, message) pairs; empty when valid.</summary>
    public static IReadOnlyList<(string Field, string Message)> Validate(Product product)
    {
        var errors = new List<(string, string)>();
        if (!CodePattern().IsMatch(product.Code) || LooksLikeStripePriceId(product.Code))
            errors.Add(("code", "must be 1-64 characters of A-Z a-z 0-9 _ . -, start with a letter or digit, and not be a Stripe price id"));
        if (!PricePattern().IsMatch(product.StripePriceId))
            errors.Add(("stripe_price_id", "must be a Stripe price id (price_...)"));
        if (product.Name is { } name && (name.Trim().Length == 0 || name.Length > MaxNameLength || name.Any(char.IsControl)))
            errors.Add(("name", $"must be 1-{MaxNameLength} characters, not only spaces, without control characters"));
        if (product.Features.Count > MaxFeatures)
            errors.Add(("features", $"at most {MaxFeatures} features"));
        foreach (var feature in product.Features)
        {
            if (!FeaturePattern().IsMatch(feature))
            {
                errors.Add(("features", "each feature must be 1-64 characters of A-Z a-z 0-9 _ . : -"));
                break;
            }
        }
        if (product.Features.Distinct(StringComparer.Ordinal).Count() != product.Features.Count)
            errors.Add(("features", "features must not repeat"));

        switch (product.Kind)
        {
            case ProductKind.UsagePack when product.UsageUnits is null:
                errors.Add(("usage_units", "is required for a usage pack"));
                break;
            case ProductKind.UsagePack when product.UsageUnits is < 1 or > MaxUsageUnits:
                errors.Add(("usage_units", $"must be between 1 and {MaxUsageUnits}"));
                break;
            case not ProductKind.UsagePack when product.UsageUnits is not null:
                errors.Add(("usage_units", "is only for usage packs"));
                break;
        }
        switch (product.Kind)
        {
            case ProductKind.TimePass when product.DurationDays is null:
                errors.Add(("duration_days", "is required for a time pass"));
                break;
            case ProductKind.TimePass when product.DurationDays is < 1 or > MaxDurationDays:
                errors.Add(("duration_days", $"must be between 1 and {MaxDurationDays}"));
                break;
            case not ProductKind.TimePass when product.DurationDays is not null:
                errors.Add(("duration_days", "is only for time passes"));
                break;
        }
        if (!AllowedGracePeriodDays.Contains(product.GracePeriodDays))
            errors.Add(("grace_period_days", "must be 0, 3, 7 or 30"));
        if (product.PaymentFailureGraceDays is < 0 or > MaxPaymentFailureGraceDays)
            errors.Add(("payment_failure_grace_days", $"must be between 0 and {MaxPaymentFailureGraceDays}"));
        return errors;
    }
}

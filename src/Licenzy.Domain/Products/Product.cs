namespace Licenzy.Domain.Products;

public enum ProductKind { Subscription, TimePass, UsagePack }

/// <summary>
/// Something a tenant sells: a Licenzy code mapped to one Stripe price, and what buying it grants.
/// </summary>
public sealed record Product
{
    public required string Code { get; init; }
    public required ProductKind Kind { get; init; }
    public required string StripePriceId { get; init; }
    public IReadOnlyList<string> Features { get; init; } = [];

    /// <summary>The name buyers see (a license's policy name); null when the tenant gave none.</summary>
    public string? Name { get; init; }

    /// <summary>Whether each purchase provisions a license key: the product is a license policy.</summary>
    public bool IssueLicense { get; init; }

    /// <summary>Units a usage pack grants; null for other kinds.</summary>
    public long? UsageUnits { get; init; }

    /// <summary>How long a time pass lasts; null for other kinds.</summary>
    public int? DurationDays { get; init; }

    /// <summary>Days of access kept after a subscription is canceled.</summary>
    public int GracePeriodDays { get; init; } = ProductRules.DefaultGracePeriodDays;

    /// <summary>Days of access kept after a failed renewal payment; 0 suspends at once.</summary>
    public int PaymentFailureGraceDays { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>No longer sold: checkout refuses it, while what was bought of it keeps working and its events still apply.</summary>
    public bool Archived { get; init; }
}

public static class ProductKinds
{
    public static bool TryParse(string? value, out ProductKind kind)
    {
        switch (value)
        {
            case "subscription": kind = ProductKind.Subscription; return true;
            case "time_pass": kind = ProductKind.TimePass; return true;
            case "usage_pack": kind = ProductKind.UsagePack; return true;
            default: kind = default; return false;
        }
    }
}

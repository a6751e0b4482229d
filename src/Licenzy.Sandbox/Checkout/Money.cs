using System.Globalization;

namespace Licenzy.Sandbox.Checkout;

/// <summary>An amount in a currency's smallest unit, as a buyer reads it.</summary>
public static class Money
{
    // Stripe's zero-decimal currencies: their amounts are already whole units.
    private static readonly HashSet<string> ZeroDecimal = new(StringComparer.OrdinalIgnoreCase)
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    };

    public static string Format(long amount, string currency)
    {
        var value = ZeroDecimal.Contains(currency)
            ? amount.ToString("N0", CultureInfo.InvariantCulture)
            : (amount / 100m).ToString("N2", CultureInfo.InvariantCulture);
        return currency.ToLowerInvariant() switch
        {
            "usd" => "$" + value,
            "eur" => "€" + value,
            "gbp" => "£" + value,
            _ => $"{value} {currency.ToUpperInvariant()}",
        };
    }
}

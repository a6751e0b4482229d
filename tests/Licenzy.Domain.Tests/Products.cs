using Licenzy.Domain.Products;

namespace Licenzy.Domain.Tests;

/// <summary>Products the tests buy.</summary>
internal static class Products
{
    public static readonly Product Pro = new()
    {
        Code = "PRO_MONTHLY", Kind = ProductKind.Subscription, StripePriceId = "price_pro",
        Features = ["export", "api_access"],
    };

    public static readonly Product DayPass = new()
    {
        Code = "DAY_PASS", Kind = ProductKind.TimePass, StripePriceId = "price_day", DurationDays = 1,
        Features = ["export"],
    };

    public static readonly Product Credits = new()
    {
        Code = "CREDITS_100", Kind = ProductKind.UsagePack, StripePriceId = "price_credits", UsageUnits = 100,
    };

    public static IEnumerable<object[]> AllKinds() => [[Pro], [DayPass], [Credits]];
}

using Licenzy.Domain.Products;
using Licenzy.Domain.Subjects;

namespace Licenzy.Domain.Tests;

public class ProductRulesTests
{
    [Fact]
    public void The_test_products_are_valid()
    {
        Assert.Empty(ProductRules.Validate(Products.Pro));
        Assert.Empty(ProductRules.Validate(Products.DayPass));
        Assert.Empty(ProductRules.Validate(Products.Credits));
    }

    [Theory]
    [InlineData("code")]
    [InlineData("usage_units")]
    [InlineData("duration_days")]
    [InlineData("grace_period_days")]
    [InlineData("payment_failure_grace_days")]
    [InlineData("features")]
    [InlineData("stripe_price_id")]
    public void Each_rule_names_its_field(string field)
    {
        var product = field switch
        {
            "code" => Products.Pro with { Code = "price_123" },
            "usage_units" => Products.Credits with { UsageUnits = null },
            "duration_days" => Products.DayPass with { DurationDays = 0 },
            "grace_period_days" => Products.Pro with { GracePeriodDays = 5 },
            "payment_failure_grace_days" => Products.Pro with { PaymentFailureGraceDays = -1 },
            "features" => Products.Pro with { Features = ["ok", "not ok"] },
            _ => Products.Pro with { StripePriceId = "prod_123" },
        };

        Assert.Contains(ProductRules.Validate(product), error => error.Field == field);
    }

    [Theory]
    [InlineData("user_123", true)]
    [InlineData("A-z.0:9@x|y_", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("slash/no", false)]
    [InlineData("ünïcode", false)]
    public void Subject_refs_use_a_small_alphabet(string value, bool valid)
    {
        Assert.Equal(valid, SubjectRef.IsValid(value));
    }

    [Fact]
    public void Subject_refs_are_at_most_256_characters()
    {
        Assert.True(SubjectRef.IsValid(new string('a', 256)));
        Assert.False(SubjectRef.IsValid(new string('a', 257)));
    }
}

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
    [InlineData("name")]
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
            "name" => Products.Pro with { Name = "" },
            _ => Products.Pro with { StripePriceId = "prod_123" },
        };

        Assert.Contains(ProductRules.Validate(product), error => error.Field == field);
    }

    [Theory]
    [InlineData("user_123", true)]
    [InlineData("A-z.0:9@x|y_", true)]
    [InlineData("Zz9", true)]
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

/// <summary>The exact limits of each product rule, and the message a caller is shown.</summary>
public class ProductRuleLimitsTests
{
    private static (string Field, string Message) Only(Product product) => Assert.Single(ProductRules.Validate(product));

    [Theory]
    [InlineData("A")]
    [InlineData("Z")]
    [InlineData("a")]
    [InlineData("z")]
    [InlineData("0")]
    [InlineData("9")]
    [InlineData("xAZaz09_.-")]
    public void A_code_is_letters_digits_and_separators_starting_with_a_letter_or_digit(string code)
    {
        Assert.Empty(ProductRules.Validate(Products.Pro with { Code = code }));
    }

    [Fact]
    public void A_code_is_at_most_64_characters()
    {
        Assert.Empty(ProductRules.Validate(Products.Pro with { Code = new string('c', 64) }));
        Assert.Equal(("code", "must be 1-64 characters of A-Z a-z 0-9 _ . -, start with a letter or digit, and not be a Stripe price id"),
            Only(Products.Pro with { Code = new string('c', 65) }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("_pro")]
    [InlineData("pro:monthly")]
    [InlineData("pro monthly")]
    [InlineData("price_pro")]
    [InlineData("pro\n")]
    public void Other_codes_are_refused(string code)
    {
        Assert.Equal("code", Only(Products.Pro with { Code = code }).Field);
    }

    [Theory]
    [InlineData("price_a")]
    [InlineData("price_AZaz09_")]
    public void A_stripe_price_id_is_price_and_an_id(string priceId)
    {
        Assert.Empty(ProductRules.Validate(Products.Pro with { StripePriceId = priceId }));
    }

    [Fact]
    public void A_stripe_price_id_is_at_most_256_characters()
    {
        Assert.Empty(ProductRules.Validate(Products.Pro with { StripePriceId = "price_" + new string('p', 250) }));
        Assert.Equal("stripe_price_id", Only(Products.Pro with { StripePriceId = "price_" + new string('p', 251) }).Field);
    }

    [Theory]
    [InlineData("price_")]
    [InlineData("price_a-b")]
    [InlineData("xprice_1")]
    [InlineData("price_1\n")]
    public void Other_price_ids_are_refused(string priceId)
    {
        Assert.Equal(("stripe_price_id", "must be a Stripe price id (price_...)"), Only(Products.Pro with { StripePriceId = priceId }));
    }

    [Fact]
    public void A_product_has_at_most_100_features()
    {
        var features = Enumerable.Range(0, 101).Select(i => $"f{i}").ToList();

        Assert.Empty(ProductRules.Validate(Products.Pro with { Features = features[..100] }));
        Assert.Equal(("features", "at most 100 features"), Only(Products.Pro with { Features = features }));
    }

    [Fact]
    public void A_feature_may_hold_a_colon_and_bad_features_are_reported_once()
    {
        Assert.Empty(ProductRules.Validate(Products.Pro with { Features = ["A", "Z", "a", "z", "0", "9", "xAZaz09_.:-", new string('f', 64)] }));
        Assert.Equal(("features", "each feature must be 1-64 characters of A-Z a-z 0-9 _ . : -"),
            Only(Products.Pro with { Features = [":export", new string('f', 65)] }));
        Assert.Equal("features", Only(Products.Pro with { Features = ["export\n"] }).Field);
    }

    [Fact]
    public void Features_do_not_repeat()
    {
        Assert.Equal(("features", "features must not repeat"), Only(Products.Pro with { Features = ["export", "export"] }));
        Assert.Empty(ProductRules.Validate(Products.Pro with { Features = ["export", "Export"] }));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(ProductRules.MaxUsageUnits)]
    public void A_usage_pack_grants_one_to_a_billion_units(long units)
    {
        Assert.Empty(ProductRules.Validate(Products.Credits with { UsageUnits = units }));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(ProductRules.MaxUsageUnits + 1)]
    public void Other_unit_counts_are_refused(long units)
    {
        Assert.Equal(("usage_units", "must be between 1 and 1000000000"), Only(Products.Credits with { UsageUnits = units }));
    }

    [Fact]
    public void Only_a_usage_pack_has_units_and_it_must()
    {
        Assert.Equal(("usage_units", "is required for a usage pack"), Only(Products.Credits with { UsageUnits = null }));
        Assert.Equal(("usage_units", "is only for usage packs"), Only(Products.Pro with { UsageUnits = 10 }));
        Assert.Equal(("usage_units", "is only for usage packs"), Only(Products.DayPass with { UsageUnits = 10 }));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(ProductRules.MaxDurationDays)]
    public void A_time_pass_lasts_one_to_3650_days(int days)
    {
        Assert.Empty(ProductRules.Validate(Products.DayPass with { DurationDays = days }));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(ProductRules.MaxDurationDays + 1)]
    public void Other_durations_are_refused(int days)
    {
        Assert.Equal(("duration_days", "must be between 1 and 3650"), Only(Products.DayPass with { DurationDays = days }));
    }

    [Fact]
    public void Only_a_time_pass_has_a_duration_and_it_must()
    {
        Assert.Equal(("duration_days", "is required for a time pass"), Only(Products.DayPass with { DurationDays = null }));
        Assert.Equal(("duration_days", "is only for time passes"), Only(Products.Pro with { DurationDays = 30 }));
        Assert.Equal(("duration_days", "is only for time passes"), Only(Products.Credits with { DurationDays = 30 }));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(30)]
    public void The_grace_period_is_one_of_four_lengths(int days)
    {
        Assert.Empty(ProductRules.Validate(Products.Pro with { GracePeriodDays = days }));
    }

    [Fact]
    public void Other_grace_periods_are_refused()
    {
        Assert.Equal(("grace_period_days", "must be 0, 3, 7 or 30"), Only(Products.Pro with { GracePeriodDays = 14 }));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(ProductRules.MaxPaymentFailureGraceDays)]
    public void Payment_failure_grace_is_zero_to_30_days(int days)
    {
        Assert.Empty(ProductRules.Validate(Products.Pro with { PaymentFailureGraceDays = days }));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(ProductRules.MaxPaymentFailureGraceDays + 1)]
    public void Other_payment_failure_graces_are_refused(int days)
    {
        Assert.Equal(("payment_failure_grace_days", "must be between 0 and 30"), Only(Products.Pro with { PaymentFailureGraceDays = days }));
    }

    [Fact]
    public void A_product_bought_with_the_defaults_keeps_a_week_of_grace()
    {
        Assert.Equal(7, new Product { Code = "PRO", Kind = ProductKind.Subscription, StripePriceId = "price_pro" }.GracePeriodDays);
    }

    [Theory]
    [InlineData("Starter Plan", true)]
    [InlineData("É", true)]
    [InlineData("", false)]
    [InlineData("   ", false)]
    [InlineData("Tab\there", false)]
    [InlineData("Line\nbreak", false)]
    public void A_name_is_some_visible_text_without_control_characters(string name, bool valid)
    {
        Assert.Equal(valid, ProductRules.Validate(Products.Pro with { Name = name }).Count == 0);
    }

    [Fact]
    public void A_name_is_at_most_128_characters_and_may_be_left_out()
    {
        Assert.Empty(ProductRules.Validate(Products.Pro with { Name = new string('n', 128) }));
        Assert.Contains(ProductRules.Validate(Products.Pro with { Name = new string('n', 129) }), error => error.Field == "name");
        Assert.Empty(ProductRules.Validate(Products.Pro with { Name = null }));
    }
}

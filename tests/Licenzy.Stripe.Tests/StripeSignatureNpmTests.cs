using StripeNet = global::Stripe;

namespace Licenzy.Stripe.Tests;

/// <summary>
/// StripeSignature checked against headers made by the official stripe npm package, and the signer
/// the tests and the sandbox use (Stripe.net's) checked to make the same headers.
/// </summary>
public sealed class StripeSignatureNpmTests(StripeNpmSigner npm) : IClassFixture<StripeNpmSigner>
{
    private static readonly DateTimeOffset Now = SigningCases.Now;
    private static readonly string Body = SigningCases.All.Single(c => c.Name == "event").Payload;

    public static TheoryData<string> V1Cases =>
        new(SigningCases.All.Where(c => c.Scheme is null).Select(c => c.Name));

    [Theory]
    [MemberData(nameof(V1Cases))]
    public void Stripe_nets_signer_produces_the_same_header_as_the_stripe_package(string caseName)
    {
        var signing = SigningCases.All.Single(c => c.Name == caseName);

        var header = StripeNet.EventUtility.GenerateSignatureHeader(signing.Payload, signing.Secret, signing.Timestamp);

        Assert.Equal(npm.Header(caseName), header);
    }

    [Theory]
    [InlineData("event")]
    [InlineData("unicode")]
    [InlineData("crlf")]
    public void A_header_from_the_stripe_package_verifies(string caseName)
    {
        var signing = SigningCases.All.Single(c => c.Name == caseName);
        var at = DateTimeOffset.FromUnixTimeSeconds(signing.Timestamp);

        var check = StripeSignature.Check(signing.Payload, npm.Header(caseName), signing.Secret, at);

        Assert.True(check.IsValid, check.Problem);
    }

    [Fact]
    public void A_tampered_body_fails()
    {
        var tampered = Body.Replace("\"canceled\"", "\"active\"");
        var trailingSpace = Body + " ";

        Assert.NotEqual(Body, tampered);
        Assert.False(StripeSignature.Check(tampered, npm.Header("event"), SigningCases.Secret, Now).IsValid);
        Assert.False(StripeSignature.Check(trailingSpace, npm.Header("event"), SigningCases.Secret, Now).IsValid);
    }

    [Theory]
    [InlineData(SigningCases.OtherSecret)]
    [InlineData("7Nn2Kq9pXbL4vR8sT1yW3zA6cE0gH5jM")] // the right secret without its whsec_ prefix: the prefix is part of the key
    public void A_wrong_secret_fails(string secret)
    {
        Assert.False(StripeSignature.Check(Body, npm.Header("event"), secret, Now).IsValid);
    }

    [Theory]
    [InlineData("past_299", true)]
    [InlineData("past_300", true)]
    [InlineData("past_301", false)]
    [InlineData("future_299", true)]
    [InlineData("future_301", false)]
    public void The_timestamp_must_be_within_the_tolerance_either_way(string caseName, bool valid)
    {
        var check = StripeSignature.Check(Body, npm.Header(caseName), SigningCases.Secret, Now);

        Assert.Equal(valid, check.IsValid);
        if (!valid) Assert.Contains("tolerance", check.Problem);
    }

    [Fact]
    public void Any_one_of_several_v1_signatures_may_match()
    {
        var right = V1(npm.Header("event"));
        var wrong = V1(npm.Header("event_other_secret"));
        var t = Now.ToUnixTimeSeconds();

        Assert.True(Check($"t={t},v1={wrong},v1={right}").IsValid);
        Assert.True(Check($"t={t},v1={right},v1={wrong},v1=not-hex").IsValid);
        Assert.True(Check($"t={t}, v1={wrong}, v1={right}, v0={wrong}").IsValid);
        Assert.False(Check($"t={t},v1={wrong},v1={wrong[..^2]}").IsValid);
    }

    [Fact]
    public void A_header_with_only_v0_fails_even_when_its_value_would_match()
    {
        var header = npm.Header("event_v0");
        Assert.StartsWith($"t={Now.ToUnixTimeSeconds()},v0=", header);

        Assert.False(Check(header).IsValid);
    }

    private static SignatureCheck Check(string? header) => StripeSignature.Check(Body, header, SigningCases.Secret, Now);

    private static string V1(string header) => header[(header.IndexOf("v1=", StringComparison.Ordinal) + 3)..];
}

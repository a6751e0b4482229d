using System.Text;

namespace Licenzy.Stripe.Tests;

/// <summary>StripeSignature checked against headers made by the official stripe npm package.</summary>
public sealed class StripeSignatureNpmTests(StripeNpmSigner npm) : IClassFixture<StripeNpmSigner>
{
    private static readonly DateTimeOffset Now = SigningCases.Now;
    private static readonly TimeSpan Tolerance = StripeSignature.DefaultTolerance;
    private static readonly byte[] Body = SigningCases.All.Single(c => c.Name == "event").PayloadBytes;

    public static TheoryData<string> V1Cases =>
        new(SigningCases.All.Where(c => c.Scheme is null).Select(c => c.Name));

    [Theory]
    [MemberData(nameof(V1Cases))]
    public void Sign_produces_the_same_header_as_the_stripe_package(string caseName)
    {
        var signing = SigningCases.All.Single(c => c.Name == caseName);

        var header = StripeSignature.Sign(signing.PayloadBytes, signing.Secret, DateTimeOffset.FromUnixTimeSeconds(signing.Timestamp));

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

        Assert.Equal(SignatureCheck.Valid, StripeSignature.Verify(signing.PayloadBytes, npm.Header(caseName), signing.Secret, at, Tolerance));
    }

    [Fact]
    public void A_tampered_body_fails()
    {
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Body).Replace("\"canceled\"", "\"active\""));
        var trailingSpace = Body.Append((byte)' ').ToArray();

        Assert.NotEqual(Body, tampered);
        Assert.Equal(SignatureCheck.NoValidSignature, StripeSignature.Verify(tampered, npm.Header("event"), SigningCases.Secret, Now, Tolerance));
        Assert.Equal(SignatureCheck.NoValidSignature, StripeSignature.Verify(trailingSpace, npm.Header("event"), SigningCases.Secret, Now, Tolerance));
    }

    [Theory]
    [InlineData(SigningCases.OtherSecret)]
    [InlineData("7Nn2Kq9pXbL4vR8sT1yW3zA6cE0gH5jM")] // the right secret without its whsec_ prefix: the prefix is part of the key
    public void A_wrong_secret_fails(string secret)
    {
        Assert.Equal(SignatureCheck.NoValidSignature, StripeSignature.Verify(Body, npm.Header("event"), secret, Now, Tolerance));
    }

    [Theory]
    [InlineData("past_299", SignatureCheck.Valid)]
    [InlineData("past_300", SignatureCheck.Valid)]
    [InlineData("past_301", SignatureCheck.TimestampOutsideTolerance)]
    [InlineData("future_299", SignatureCheck.Valid)]
    [InlineData("future_301", SignatureCheck.TimestampOutsideTolerance)]
    public void The_timestamp_must_be_within_the_tolerance_either_way(string caseName, SignatureCheck expected)
    {
        Assert.Equal(expected, StripeSignature.Verify(Body, npm.Header(caseName), SigningCases.Secret, Now, Tolerance));
    }

    [Fact]
    public void Any_one_of_several_v1_signatures_may_match()
    {
        var right = V1(npm.Header("event"));
        var wrong = V1(npm.Header("event_other_secret"));
        var t = Now.ToUnixTimeSeconds();

        Assert.Equal(SignatureCheck.Valid, Verify($"t={t},v1={wrong},v1={right}"));
        Assert.Equal(SignatureCheck.Valid, Verify($"t={t},v1={right},v1={wrong},v1=not-hex"));
        Assert.Equal(SignatureCheck.Valid, Verify($"t={t}, v1={wrong}, v1={right}, v0={wrong}"));
        Assert.Equal(SignatureCheck.NoValidSignature, Verify($"t={t},v1={wrong},v1={wrong[..^2]}"));
    }

    [Fact]
    public void A_header_with_only_v0_fails_even_when_its_value_would_match()
    {
        var header = npm.Header("event_v0");
        Assert.StartsWith($"t={Now.ToUnixTimeSeconds()},v0=", header);

        Assert.Equal(SignatureCheck.NoValidSignature, Verify(header));
    }

    private static SignatureCheck Verify(string? header) =>
        StripeSignature.Verify(Body, header, SigningCases.Secret, Now, Tolerance);

    private static string V1(string header) => header[(header.IndexOf("v1=", StringComparison.Ordinal) + 3)..];
}

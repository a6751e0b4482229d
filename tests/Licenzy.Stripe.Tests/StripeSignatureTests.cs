using System.Text;

namespace Licenzy.Stripe.Tests;

/// <summary>StripeSignature on headers that need no outside signer.</summary>
public sealed class StripeSignatureTests
{
    private static readonly DateTimeOffset Now = SigningCases.Now;
    private static readonly TimeSpan Tolerance = StripeSignature.DefaultTolerance;
    private static readonly byte[] Body = SigningCases.All.Single(c => c.Name == "event").PayloadBytes;

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void A_missing_header_is_reported_as_missing(string? header)
    {
        Assert.Equal(SignatureCheck.MissingHeader, Verify(header));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("v1=5e723427cac5b6aab454802119c934280d0e851ed2777a01de9080b532e2ff5f")]
    [InlineData("t=,v1=5e723427cac5b6aab454802119c934280d0e851ed2777a01de9080b532e2ff5f")]
    [InlineData("t=soon,v1=5e723427cac5b6aab454802119c934280d0e851ed2777a01de9080b532e2ff5f")]
    [InlineData("t=-1,v1=5e723427cac5b6aab454802119c934280d0e851ed2777a01de9080b532e2ff5f")]
    [InlineData("t=99999999999999999999,v1=00")]
    [InlineData(",,,")]
    public void A_header_without_a_readable_timestamp_is_malformed(string header)
    {
        Assert.Equal(SignatureCheck.MalformedHeader, Verify(header));
    }

    [Theory]
    [InlineData("t=1775044800")]
    [InlineData("t=1775044800,v1=")]
    [InlineData("t=1775044800,v1=zz")]
    public void A_header_without_a_usable_v1_signature_fails(string header)
    {
        Assert.Equal(SignatureCheck.NoValidSignature, Verify(header));
    }

    [Fact]
    public void Upper_case_hex_is_read_as_the_same_signature()
    {
        var header = StripeSignature.Sign(Body, SigningCases.Secret, Now);
        var upper = header[..header.IndexOf("v1=", StringComparison.Ordinal)] + "v1=" + V1(header).ToUpperInvariant();

        Assert.Equal(SignatureCheck.Valid, Verify(upper));
    }

    [Fact]
    public void Sign_matches_a_known_vector()
    {
        // HMAC-SHA256 of "1700000000.{"a":"é😀"}" keyed by "whsec_x", computed with openssl.
        var payload = Encoding.UTF8.GetBytes("""{"a":"é😀"}""");
        const string expected = "t=1700000000,v1=5e723427cac5b6aab454802119c934280d0e851ed2777a01de9080b532e2ff5f";

        Assert.Equal(expected, StripeSignature.Sign(payload, "whsec_x", DateTimeOffset.FromUnixTimeSeconds(1_700_000_000)));
        Assert.Equal(SignatureCheck.Valid,
            StripeSignature.Verify(payload, expected, "whsec_x", DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), Tolerance));
    }

    [Fact]
    public void Sign_then_verify_round_trips()
    {
        var header = StripeSignature.Sign(Body, SigningCases.Secret, Now);

        Assert.Equal(SignatureCheck.Valid, Verify(header));
        Assert.Equal(SignatureCheck.TimestampOutsideTolerance,
            StripeSignature.Verify(Body, header, SigningCases.Secret, Now.AddMinutes(10), Tolerance));
    }

    [Fact]
    public void Arguments_that_cannot_be_right_throw()
    {
        Assert.ThrowsAny<ArgumentException>(() => StripeSignature.Verify(Body, "t=1,v1=00", "", Now, Tolerance));
        Assert.ThrowsAny<ArgumentException>(() => StripeSignature.Verify(Body, "t=1,v1=00", SigningCases.Secret, Now, TimeSpan.FromSeconds(-1)));
        Assert.ThrowsAny<ArgumentException>(() => StripeSignature.Sign(Body, "", Now));
        Assert.Equal(TimeSpan.FromSeconds(300), StripeSignature.DefaultTolerance);
    }

    private static SignatureCheck Verify(string? header) =>
        StripeSignature.Verify(Body, header, SigningCases.Secret, Now, Tolerance);

    private static string V1(string header) => header[(header.IndexOf("v1=", StringComparison.Ordinal) + 3)..];
}

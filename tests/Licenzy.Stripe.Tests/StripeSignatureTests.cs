using System.Text;
using StripeNet = global::Stripe;

namespace Licenzy.Stripe.Tests;

/// <summary>StripeSignature on headers that need no outside signer.</summary>
public sealed class StripeSignatureTests
{
    private static readonly DateTimeOffset Now = SigningCases.Now;
    private static readonly string Body = SigningCases.All.Single(c => c.Name == "event").Payload;

    [Fact]
    public void While_a_secret_rolls_a_signature_by_either_secret_is_valid_and_by_neither_refused_with_the_current_ones_reason()
    {
        const string current = "whsec_current_0123456789", previous = "whsec_previous_0123456789";
        string Signed(string secret) => StripeNet.EventUtility.GenerateSignatureHeader(Body, secret, Now.ToUnixTimeSeconds());

        Assert.True(StripeSignature.Check(Body, Signed(current), [current, previous], Now).IsValid);
        Assert.True(StripeSignature.Check(Body, Signed(previous), [current, previous], Now).IsValid);
        Assert.False(StripeSignature.Check(Body, Signed(previous), [current], Now).IsValid);
        var refused = StripeSignature.Check(Body, Signed("whsec_other_0123456789"), [current, previous], Now);
        Assert.False(refused.IsValid);
        Assert.Equal(StripeSignature.Check(Body, Signed("whsec_other_0123456789"), current, Now).Problem, refused.Problem);
        Assert.Throws<ArgumentException>(() => StripeSignature.Check(Body, Signed(current), Array.Empty<string>(), Now));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void A_missing_header_is_refused_as_missing(string? header)
    {
        var check = Check(header);

        Assert.False(check.IsValid);
        Assert.Contains("missing", check.Problem);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("v1=5e723427cac5b6aab454802119c934280d0e851ed2777a01de9080b532e2ff5f")]
    [InlineData("t=,v1=5e723427cac5b6aab454802119c934280d0e851ed2777a01de9080b532e2ff5f")]
    [InlineData("t=soon,v1=5e723427cac5b6aab454802119c934280d0e851ed2777a01de9080b532e2ff5f")]
    [InlineData("t=-1,v1=5e723427cac5b6aab454802119c934280d0e851ed2777a01de9080b532e2ff5f")]
    [InlineData("t=99999999999999999999,v1=00")]
    [InlineData(",,,")]
    [InlineData("t=1775044800")]
    [InlineData("t=1775044800,v1=")]
    [InlineData("t=1775044800,v1=zz")]
    public void A_header_without_a_readable_timestamp_or_a_usable_v1_signature_is_refused(string header)
    {
        var check = Check(header);

        Assert.False(check.IsValid);
        Assert.False(string.IsNullOrWhiteSpace(check.Problem));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("99999999999")] // beyond what Stripe.net reads as a timestamp (Int32 seconds)
    public void A_correctly_signed_timestamp_that_is_not_a_usable_number_is_refused_not_thrown(string timestamp)
    {
        // Only someone holding the secret can sign such a header; it must still be a 400, not a 500.
        var header = $"t={timestamp},v1={StripeNet.EventUtility.ComputeSignature(SigningCases.Secret, timestamp, Body)}";

        var check = Check(header);

        Assert.False(check.IsValid);
        Assert.Contains("timestamp", check.Problem);
    }

    [Fact]
    public void The_signer_matches_a_known_vector_and_the_check_accepts_it()
    {
        // HMAC-SHA256 of "1700000000.{"a":"é😀"}" keyed by "whsec_x", computed with openssl.
        const string payload = """{"a":"é😀"}""";
        const string expected = "t=1700000000,v1=5e723427cac5b6aab454802119c934280d0e851ed2777a01de9080b532e2ff5f";

        Assert.Equal(expected, StripeNet.EventUtility.GenerateSignatureHeader(payload, "whsec_x", 1_700_000_000));
        Assert.True(StripeSignature.Check(payload, expected, "whsec_x", DateTimeOffset.FromUnixTimeSeconds(1_700_000_000)).IsValid);
    }

    [Fact]
    public void The_timestamp_is_held_to_the_clock_given_not_the_machines()
    {
        // Signed at a fixed instant months away from the machine's clock: only the given clock can accept it.
        var header = StripeNet.EventUtility.GenerateSignatureHeader(Body, SigningCases.Secret, Now.ToUnixTimeSeconds());

        Assert.True(Check(header).IsValid);
        var late = StripeSignature.Check(Body, header, SigningCases.Secret, Now.AddMinutes(10));
        Assert.False(late.IsValid);
        Assert.Contains("tolerance", late.Problem);
    }

    [Fact]
    public void Bytes_that_differ_from_what_was_signed_are_refused()
    {
        var header = StripeNet.EventUtility.GenerateSignatureHeader(Body, SigningCases.Secret, Now.ToUnixTimeSeconds());
        var reencoded = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(Body + "\n"));

        Assert.False(StripeSignature.Check(reencoded, header, SigningCases.Secret, Now).IsValid);
    }

    [Fact]
    public void Arguments_that_cannot_be_right_throw()
    {
        Assert.ThrowsAny<ArgumentException>(() => StripeSignature.Check(Body, "t=1,v1=00", "", Now));
        Assert.ThrowsAny<ArgumentNullException>(() => StripeSignature.Check(null!, "t=1,v1=00", SigningCases.Secret, Now));
        Assert.Equal(TimeSpan.FromSeconds(300), StripeSignature.Tolerance);
    }

    private static SignatureCheck Check(string? header) => StripeSignature.Check(Body, header, SigningCases.Secret, Now);
}

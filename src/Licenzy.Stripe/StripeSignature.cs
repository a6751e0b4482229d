using System.Diagnostics.CodeAnalysis;
using StripeNet = global::Stripe;

namespace Licenzy.Stripe;

/// <summary>Whether a webhook's <c>Stripe-Signature</c> header proves that Stripe sent its body, and if not, why.</summary>
public sealed record SignatureCheck
{
    private SignatureCheck(string? problem) => Problem = problem;

    public static SignatureCheck Valid { get; } = new((string?)null);

    /// <summary>Why the signature was refused, for the sender and the logs; never contains the secret or the body.</summary>
    public string? Problem { get; }

    [MemberNotNullWhen(false, nameof(Problem))]
    public bool IsValid => Problem is null;

    internal static SignatureCheck Refused(string problem) => new(problem);
}

/// <summary>
/// Stripe's webhook signatures, checked by Stripe.net: every <c>v1</c> signature in the header is
/// tried against the endpoint's secret, and the signed timestamp must be within
/// <see cref="Tolerance"/> of now, either way.
/// </summary>
public static class StripeSignature
{
    /// <summary>Stripe's default, which API.md promises.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromSeconds(StripeNet.EventUtility.DefaultTimeTolerance);

    /// <summary>
    /// Valid when the signature was made with any of <paramref name="secrets"/>: while an endpoint's
    /// secret rolls, Stripe signs with the new one and the old one is still accepted. A refusal
    /// gives the reason for the first (current) secret.
    /// </summary>
    public static SignatureCheck Check(string payload, string? header, IReadOnlyList<string> secrets, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (secrets.Count == 0) throw new ArgumentException("At least one secret is needed.", nameof(secrets));
        SignatureCheck? first = null;
        foreach (var secret in secrets)
        {
            var check = Check(payload, header, secret, now);
            if (check.IsValid) return check;
            first ??= check;
        }

        return first!;
    }

    /// <param name="payload">The body exactly as received, as UTF-8 text.</param>
    /// <param name="now">The app's clock, so that tests with a fake clock hold the timestamp to it.</param>
    public static SignatureCheck Check(string payload, string? header, string secret, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentException.ThrowIfNullOrEmpty(secret);
        // Stripe.net would fail on a missing header with a NullReferenceException rather than say so.
        if (string.IsNullOrWhiteSpace(header)) return SignatureCheck.Refused("The Stripe-Signature header is missing.");

        try
        {
            StripeNet.EventUtility.ValidateSignature(payload, header, secret, (long)Tolerance.TotalSeconds, now.ToUnixTimeSeconds());
            return SignatureCheck.Valid;
        }
        catch (StripeNet.StripeException e)
        {
            // Stripe.net's own reasons: a malformed header, no matching v1 signature, a stale timestamp.
            return SignatureCheck.Refused(e.Message);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            // Stripe.net reads the timestamp with Convert.ToInt32 once a signature matched; only a
            // sender holding the secret gets this far with one that is not a number of seconds.
            return SignatureCheck.Refused("The timestamp (t=) in the Stripe-Signature header is not a number of seconds.");
        }
    }
}

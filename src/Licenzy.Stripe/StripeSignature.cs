using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Licenzy.Stripe;

public enum SignatureCheck
{
    Valid,
    MissingHeader,
    MalformedHeader,
    NoValidSignature,
    TimestampOutsideTolerance,
}

/// <summary>
/// Stripe's webhook signature: <c>Stripe-Signature: t=&lt;unix&gt;,v1=&lt;hex&gt;[,v1=...]</c>, where each v1
/// is HMAC-SHA256 of <c>"&lt;t&gt;." + body</c> keyed by the whole webhook secret (<c>whsec_...</c>).
/// </summary>
public static class StripeSignature
{
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromSeconds(300);

    private const int MacLength = 32; // SHA-256
    private const string SignedScheme = "v1";

    public static SignatureCheck Verify(
        ReadOnlySpan<byte> payload, string? header, string secret, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentOutOfRangeException.ThrowIfLessThan(tolerance, TimeSpan.Zero);

        if (string.IsNullOrWhiteSpace(header))
        {
            return SignatureCheck.MissingHeader;
        }

        if (ReadTimestamp(header) is not { } timestamp)
        {
            return SignatureCheck.MalformedHeader;
        }

        Span<byte> expected = stackalloc byte[MacLength];
        ComputeMac(payload, secret, timestamp, expected);

        // Stripe sends several v1 values while a secret is being rolled; any one may match.
        // Every candidate is compared, in constant time, so timing says nothing about which.
        var matched = false;
        Span<byte> candidate = stackalloc byte[MacLength];
        foreach (var value in Values(header, SignedScheme))
        {
            if (value.Length == MacLength * 2
                && Convert.FromHexString(value, candidate, out _, out var written) == OperationStatus.Done
                && written == MacLength)
            {
                matched |= CryptographicOperations.FixedTimeEquals(candidate, expected);
            }
        }

        if (!matched)
        {
            return SignatureCheck.NoValidSignature;
        }

        // Both ways: a timestamp far in the future is as suspect as an old one.
        var skew = now - DateTimeOffset.FromUnixTimeSeconds(timestamp);
        return skew.Duration() > tolerance ? SignatureCheck.TimestampOutsideTolerance : SignatureCheck.Valid;
    }

    /// <summary>A <c>Stripe-Signature</c> header for <paramref name="payload"/>, as Stripe would send it.</summary>
    public static string Sign(ReadOnlySpan<byte> payload, string secret, DateTimeOffset timestamp)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var seconds = timestamp.ToUnixTimeSeconds();
        Span<byte> mac = stackalloc byte[MacLength];
        ComputeMac(payload, secret, seconds, mac);
        return $"t={seconds.ToString(CultureInfo.InvariantCulture)},{SignedScheme}={Convert.ToHexStringLower(mac)}";
    }

    private static void ComputeMac(ReadOnlySpan<byte> payload, string secret, long timestamp, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(Encoding.ASCII.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture)));
        hmac.AppendData("."u8);
        hmac.AppendData(payload);
        hmac.GetHashAndReset(destination);
    }

    private static long? ReadTimestamp(string header)
    {
        var text = Values(header, "t").FirstOrDefault();
        // Digits only, and within what DateTimeOffset can hold.
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
               && seconds <= DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            ? seconds
            : null;
    }

    private static IEnumerable<string> Values(string header, string key)
    {
        foreach (var item in header.Split(',', StringSplitOptions.TrimEntries))
        {
            var equals = item.IndexOf('=');
            if (equals > 0 && item.AsSpan(0, equals).SequenceEqual(key))
            {
                yield return item[(equals + 1)..];
            }
        }
    }
}

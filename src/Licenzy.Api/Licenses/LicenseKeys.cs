using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace Licenzy.Api.Licenses;

/// <summary>A newly made license key: shown to the tenant, stored only as its hash and encrypted.</summary>
public sealed record IssuedLicenseKey(string Key, string Hash, string ProtectedKey);

/// <summary>
/// Makes, protects and recognises license keys. A key is <c>LZ-</c> and 160 random bits in
/// Crockford base32, four groups of eight (easy to read out and type; no 0/O or 1/I/L mix-ups).
/// It is found by its SHA-256, which is enough for a value this random (no salt or slow hash is
/// needed: nobody can guess their way to a preimage), and kept encrypted under the application's
/// Data Protection key ring so that the license views can show it again.
/// </summary>
public sealed class LicenseKeys(IDataProtectionProvider protection)
{
    public const string Prefix = "LZ-";
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    private const int RandomBytes = 20;
    private const int GroupLength = 8;

    private readonly IDataProtector _protector = protection.CreateProtector("Licenzy.LicenseKeys.v1");

    public IssuedLicenseKey Issue()
    {
        Span<byte> random = stackalloc byte[RandomBytes];
        RandomNumberGenerator.Fill(random);
        var key = Format(random);
        return new IssuedLicenseKey(key, Hash(key), _protector.Protect(key));
    }

    public string Reveal(string protectedKey) => _protector.Unprotect(protectedKey);

    /// <summary>The lower-case hex SHA-256 of the key as sent; any string may be asked about.</summary>
    public static string Hash(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        var length = Encoding.UTF8.GetByteCount(key);
        var bytes = length <= 512 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(key, bytes);
        SHA256.HashData(bytes, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>Five bits per character, most significant first; groups joined by '-'.</summary>
    private static string Format(ReadOnlySpan<byte> random)
    {
        const int characters = RandomBytes * 8 / 5;
        var text = new StringBuilder(Prefix, Prefix.Length + characters + characters / GroupLength - 1);
        int buffer = 0, bits = 0, written = 0;
        foreach (var b in random)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                if (written > 0 && written % GroupLength == 0) text.Append('-');
                text.Append(Alphabet[(buffer >> bits) & 31]);
                written++;
            }
        }
        return text.ToString();
    }
}

using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using NSec.Cryptography;

namespace Licenzy.Client;

/// <summary>What a verified entitlement token says: enough to answer access checks until <see cref="ExpiresAt"/>.</summary>
public sealed class VerifiedToken
{
    internal VerifiedToken(string subjectRef, bool allowed, IReadOnlySet<string> features, long version, DateTimeOffset notBefore,
        DateTimeOffset expiresAt)
    {
        SubjectRef = subjectRef;
        Allowed = allowed;
        Features = features;
        Version = version;
        NotBefore = notBefore;
        ExpiresAt = expiresAt;
    }

    public string SubjectRef { get; }
    public bool Allowed { get; }
    public IReadOnlySet<string> Features { get; }
    public long Version { get; }
    public DateTimeOffset NotBefore { get; }
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The answer for <paramref name="feature"/> (none: any access at all), as the token says it.</summary>
    public bool Allows(string? feature) => Allowed && (feature is null || Features.Contains(feature));

    public bool IsValidAt(DateTimeOffset now) => now >= NotBefore && now < ExpiresAt;
}

/// <summary>The token was not what Licenzy signs: bad form, unknown key, bad signature, wrong claims.</summary>
public sealed class TokenVerificationException(string message) : Exception(message);

/// <summary>
/// Verifies Licenzy's entitlement tokens: a compact JWS, <c>alg: EdDSA</c> over Ed25519, signed
/// by a key of the served key set (<c>/.well-known/jwks.json</c>), for the expected issuer,
/// audience and subject, valid at the given time.
/// </summary>
internal static class TokenVerifier
{
    private static readonly SignatureAlgorithm Ed25519 = SignatureAlgorithm.Ed25519;

    /// <summary>The <c>kid</c> a token's header names (read, not trusted).</summary>
    public static string KidOf(string token)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0) throw new TokenVerificationException("the token is not a compact JWS");
        using var header = Parse(token.AsSpan(0, dot), "header");
        if (!header.RootElement.TryGetProperty("alg", out var alg) || alg.GetString() != "EdDSA")
            throw new TokenVerificationException("the token's alg is not EdDSA");
        return header.RootElement.TryGetProperty("kid", out var kid) && kid.GetString() is { Length: > 0 } id
            ? id
            : throw new TokenVerificationException("the token names no kid");
    }

    public static VerifiedToken Verify(string token, PublicKey key, string issuer, string? audience, string subjectRef, DateTimeOffset now)
    {
        var parts = token.Split('.');
        if (parts.Length != 3) throw new TokenVerificationException("the token is not a compact JWS");
        byte[] signature;
        try
        {
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (FormatException)
        {
            throw new TokenVerificationException("the token's signature is not base64url");
        }
        if (!Ed25519.Verify(key, Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), signature))
            throw new TokenVerificationException("the token's signature does not verify");

        using var claims = Parse(parts[1], "claims");
        var root = claims.RootElement;
        if (Text(root, "iss") != issuer) throw new TokenVerificationException($"the token's issuer is not {issuer}");
        if (audience is not null && Text(root, "aud") != audience) throw new TokenVerificationException("the token is for another tenant");
        if (Text(root, "sub") != subjectRef) throw new TokenVerificationException("the token is for another subject");
        var notBefore = DateTimeOffset.FromUnixTimeSeconds(Number(root, "nbf"));
        var expires = DateTimeOffset.FromUnixTimeSeconds(Number(root, "exp"));
        if (now >= expires) throw new TokenVerificationException("the token has expired");
        var features = new HashSet<string>(StringComparer.Ordinal);
        if (root.TryGetProperty("features", out var list) && list.ValueKind == JsonValueKind.Array)
            foreach (var feature in list.EnumerateArray()) if (feature.GetString() is { } name) features.Add(name);
        var allowed = root.TryGetProperty("allowed", out var a) && a.ValueKind == JsonValueKind.True;
        return new VerifiedToken(subjectRef, allowed, features, Number(root, "ver"), notBefore, expires);
    }

    /// <summary>An Ed25519 public key from a JWK (<c>kty: OKP, crv: Ed25519, x</c>); null for any other kind of key.</summary>
    public static PublicKey? KeyOf(JsonElement jwk)
    {
        if (Text(jwk, "kty") != "OKP" || Text(jwk, "crv") != "Ed25519" || Text(jwk, "x") is not { } x) return null;
        try
        {
            return PublicKey.Import(Ed25519, Base64Url.DecodeFromChars(x), KeyBlobFormat.RawPublicKey);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return null;
        }
    }

    private static JsonDocument Parse(ReadOnlySpan<char> part, string what)
    {
        try
        {
            return JsonDocument.Parse(Base64Url.DecodeFromChars(part));
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw new TokenVerificationException($"the token's {what} is not base64url JSON");
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.TryGetInt64(out var number)
            ? number
            : throw new TokenVerificationException($"the token has no {name}");
}

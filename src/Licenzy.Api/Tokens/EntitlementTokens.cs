using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using Licenzy.Api.Http;
using Licenzy.Domain;
using Licenzy.Domain.Access;
using Licenzy.Domain.Subjects;
using Microsoft.Extensions.Options;
using NSec.Cryptography;

namespace Licenzy.Api.Tokens;

/// <summary>A token and what it says about itself.</summary>
public sealed record IssuedToken(string Token, DateTimeOffset ExpiresAt, long Version);

/// <summary>
/// Entitlement tokens (API.md, "Entitlement tokens"): a compact JWS, EdDSA over Ed25519, whose
/// claims answer the access check for a subject offline until <c>exp</c>. <c>exp</c> is at most
/// <see cref="TokenOptions.LifetimeSeconds"/> after issue and never after the first instant at
/// which the clock alone changes anything the token says (an entitlement starting, expiring, or
/// a grace period ending), so that a verified token is never out of date by the clock.
/// </summary>
public sealed class EntitlementTokens(TokenKeys keys, IOptionsMonitor<TokenOptions> options, IOptionsMonitor<ApiOptions> api)
{
    public const string DefaultIssuer = "licenzy";

    /// <summary>The issuer claim: the public base URL when one is set, else <see cref="DefaultIssuer"/>.</summary>
    public string Issuer => api.CurrentValue.PublicBase ?? DefaultIssuer;

    public async Task<IssuedToken> IssueAsync(string tenantId, Mode mode, string subjectRef, SubjectState? state, DateTimeOffset now,
        CancellationToken ct)
    {
        var (signing, privateKey) = await keys.SigningKeyAsync(ct);
        var issuedAt = now.ToUnixTimeSeconds();
        var expires = Math.Min(issuedAt + options.CurrentValue.LifetimeSeconds, FirstClockChange(state, now) ?? long.MaxValue);
        if (expires < issuedAt) expires = issuedAt;
        var version = state?.Version ?? 0;

        var header = Encoding.UTF8.GetBytes($$"""{"alg":"EdDSA","typ":"JWT","kid":"{{signing.Kid}}"}""");
        var payload = Claims(tenantId, mode, subjectRef, state, now, issuedAt, expires, version);
        var signingInput = $"{Base64Url.EncodeToString(header)}.{Base64Url.EncodeToString(payload)}";
        var signature = SignatureAlgorithm.Ed25519.Sign(privateKey, Encoding.ASCII.GetBytes(signingInput));
        return new IssuedToken($"{signingInput}.{Base64Url.EncodeToString(signature)}", DateTimeOffset.FromUnixTimeSeconds(expires), version);
    }

    /// <summary>The claims as UTF-8 JSON, in API.md's names.</summary>
    private byte[] Claims(string tenantId, Mode mode, string subjectRef, SubjectState? state, DateTimeOffset now, long issuedAt, long expires,
        long version)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("iss", Issuer);
            json.WriteString("sub", subjectRef);
            json.WriteString("aud", tenantId);
            json.WriteString("mode", mode.ToWire());
            json.WriteNumber("ver", version);
            json.WriteNumber("iat", issuedAt);
            json.WriteNumber("nbf", issuedAt);
            json.WriteNumber("exp", expires);
            json.WriteBoolean("allowed", AccessDecision.IsAllowed(state, null, now));
            json.WriteStartArray("features");
            var features = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var entitlement in state?.Entitlements ?? [])
                if (entitlement.Evaluate(now).Available) features.UnionWith(entitlement.Features);
            foreach (var feature in features) json.WriteStringValue(feature);
            json.WriteEndArray();
            json.WriteStartArray("ent");
            foreach (var entitlement in state?.Entitlements ?? [])
            {
                var at = entitlement.Evaluate(now);
                json.WriteStartObject();
                json.WriteString("product_code", entitlement.ProductCode);
                json.WriteString("kind", Wire.Of(entitlement.Kind));
                json.WriteString("status", Wire.Of(at.Status));
                json.WriteBoolean("available", at.Available);
                WriteTime(json, "expires_at", entitlement.ExpiresAt);
                WriteTime(json, "grace_ends_at", entitlement.GraceEndsAt);
                if (at.UsageRemaining is { } remaining) json.WriteNumber("usage_remaining", remaining);
                else json.WriteNull("usage_remaining");
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? value)
    {
        if (value is { } at) json.WriteString(name, at.UtcDateTime);
        else json.WriteNull(name);
    }

    /// <summary>
    /// The first instant after <paramref name="now"/>, in whole seconds rounded down, at which the
    /// clock alone changes any entitlement's status or availability; null when none ever does.
    /// </summary>
    internal static long? FirstClockChange(SubjectState? state, DateTimeOffset now)
    {
        DateTimeOffset? first = null;
        foreach (var entitlement in state?.Entitlements ?? [])
        {
            foreach (var instant in new[] { entitlement.StartsAt, entitlement.ExpiresAt, entitlement.GraceEndsAt, entitlement.AvailableUntil })
            {
                if (instant is { } at && at > now && at != DateTimeOffset.MaxValue && (first is null || at < first)) first = at;
            }
        }
        return first?.ToUnixTimeSeconds();
    }
}

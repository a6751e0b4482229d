using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Licenzy.Infrastructure.Http;

/// <summary>Bearer tokens and shared secrets, read and compared the same way on every route.</summary>
public static class BearerTokens
{
    private const string Scheme = "Bearer ";

    /// <summary>The token of an <c>Authorization: Bearer</c> header, or null when there is none (or it is empty).</summary>
    public static string? From(HttpRequest request) => SpanFrom(request) is { IsEmpty: false } token ? token.ToString() : null;

    /// <summary>The same token as <see cref="From"/>, without copying it; empty when there is none.</summary>
    public static ReadOnlySpan<char> SpanFrom(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? header.AsSpan(Scheme.Length).Trim() : [];
    }

    /// <summary>Compares hashes, so neither the content nor the length of the secret leaks through timing.</summary>
    public static bool SameSecret(string sent, string configured) =>
        CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(sent)), SHA256.HashData(Encoding.UTF8.GetBytes(configured)));
}

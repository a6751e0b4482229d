using System.Security.Cryptography;
using StandardWebhooks;

namespace Licenzy.Api.Webhooks;

/// <summary>
/// Standard Webhooks signing with the reference library. The library signs with one secret; while a
/// secret rotates, each active secret signs and the signatures are joined with spaces, as the
/// specification's <c>webhook-signature</c> header allows.
/// </summary>
public static class WebhookSignature
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    private const string SecretPrefix = "whsec_";

    /// <summary>A new secret: <c>whsec_</c> and 32 random bytes in base64, the key the HMAC uses.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The <c>webhook-signature</c> value: one <c>v1,&lt;base64&gt;</c> per secret, space-separated.</summary>
    public static string Sign(string messageId, DateTimeOffset timestamp, string body, IEnumerable<string> secrets) =>
        string.Join(' ', secrets.Select(secret => new StandardWebhook(secret).Sign(messageId, timestamp, body)));
}

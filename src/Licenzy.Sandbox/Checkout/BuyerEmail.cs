using System.Net.Mail;
using System.Text.RegularExpressions;
using Licenzy.Sandbox.Account;

namespace Licenzy.Sandbox.Checkout;

/// <summary>
/// The email a buyer gives on the checkout page. Real Checkout always collects one, and Licenzy
/// provisions licenses with it; the sandbox's page asks for it with a value filled in, so that a
/// Pay without a form (the README's curl) still completes with one.
/// </summary>
public static partial class BuyerEmail
{
    // Stripe's own limit for an email.
    private const int MaxLength = 512;

    /// <summary>
    /// The email the session was created with (<c>customer_email</c>), else one made from the
    /// subject (<c>user_123@example.com</c>) when the subject can be an address's local part, else
    /// <c>buyer@example.com</c>.
    /// </summary>
    public static string DefaultFor(SandboxCheckoutSession session) =>
        session.Request.CustomerEmail
        ?? (session.Owner?.SubjectRef is { } subject && LocalPart().IsMatch(subject) ? $"{subject}@example.com" : "buyer@example.com");

    /// <summary>An address as one person types it, without a display name; null when it is not one.</summary>
    public static string? Read(string? text)
    {
        text = text?.Trim();
        return text is { Length: > 0 and <= MaxLength } && MailAddress.TryCreate(text, out var address) && address.Address == text && address.DisplayName.Length == 0
            ? text
            : null;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex LocalPart();
}

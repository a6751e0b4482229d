using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Licenzy.Sandbox.Wire;

/// <summary>
/// A Stripe API version, such as <c>2026-10-28.endive</c> or <c>2024-06-20</c>. On Stripe a webhook
/// endpoint chooses one, and its events are written in that version's shapes; the sandbox writes
/// the two shapes Licenzy reads apart, before and since <see cref="Basil"/>.
/// </summary>
public sealed partial record StripeApiVersion
{
    /// <summary>
    /// <c>2025-03-31.basil</c> moved a subscription's period onto its items, an invoice's
    /// subscription under <c>parent</c> and its payment under <c>payments</c>, and took the invoice
    /// off charges.
    /// </summary>
    public static readonly DateOnly Basil = new(2025, 3, 31);

    private StripeApiVersion(string name, DateOnly released) => (Name, Released) = (name, released);

    /// <summary>As Stripe writes it, e.g. in an event's <c>api_version</c>.</summary>
    public string Name { get; }

    public DateOnly Released { get; }

    /// <summary>Whether objects are written as since <see cref="Basil"/>, or as before.</summary>
    public bool HasBasilShapes => Released >= Basil;

    public static bool TryParse(string? text, [NotNullWhen(true)] out StripeApiVersion? version)
    {
        version = null;
        if (text is null || Pattern().Match(text) is not { Success: true } match) return false;
        if (!DateOnly.TryParseExact(match.Groups["date"].Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var released))
            return false;
        version = new StripeApiVersion(text, released);
        return true;
    }

    public static StripeApiVersion Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"'{text}' is not a Stripe API version.");

    public override string ToString() => Name;

    [GeneratedRegex(@"^(?<date>\d{4}-\d{2}-\d{2})(\.[a-z]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

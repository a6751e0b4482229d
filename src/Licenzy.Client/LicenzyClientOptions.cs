namespace Licenzy.Client;

/// <summary>How to reach Licenzy, and how long to trust what it said.</summary>
public sealed class LicenzyClientOptions
{
    /// <summary>Licenzy's base address, such as <c>https://licenzy.example.com</c>.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The runtime API key (<c>lz_test_...</c> or <c>lz_live_...</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// The tenant id the tokens must be for (their <c>aud</c>). Optional: the client only uses
    /// tokens it asked for itself with its own key; when set, a token for another tenant is refused.
    /// </summary>
    public string? TenantId { get; set; }

    /// <summary>The issuer tokens must name: Licenzy's <c>Licenzy:PublicBaseUrl</c>, or <c>licenzy</c> when that is not set.</summary>
    public string Issuer { get; set; } = "licenzy";

    /// <summary>
    /// How long before a token expires a fresh one is fetched (in the background, while the old
    /// one keeps answering). Default 30 seconds; a token shorter than twice this is refreshed at half its life.
    /// </summary>
    public TimeSpan RefreshBeforeExpiry { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a key set is kept before it may be fetched again for an unknown <c>kid</c>.</summary>
    public TimeSpan KeySetMinRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}

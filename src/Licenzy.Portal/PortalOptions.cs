namespace Licenzy.Portal;

/// <summary>Settings under <c>Licenzy:Portal</c>.</summary>
public sealed class PortalOptions
{
    public const string Section = "Licenzy:Portal";

    /// <summary>Serve the portal at /portal.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Where the portal reaches the setup API (this same app). Unset: the first address the app
    /// listens on, with a wildcard host read as localhost.
    /// </summary>
    public Uri? ApiBaseUrl { get; set; }
}

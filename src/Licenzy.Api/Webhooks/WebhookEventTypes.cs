namespace Licenzy.Api.Webhooks;

/// <summary>The event types a tenant's endpoint can subscribe to, as API.md names them.</summary>
public static class WebhookEventTypes
{
    public const string LicenseCreated = "license.created";
    public const string LicenseUpdated = "license.updated";
    public const string EntitlementsUpdated = "entitlements.updated";

    /// <summary>Every type, in the order API.md lists them: what an endpoint gets when it names none.</summary>
    public static readonly IReadOnlyList<string> All = [LicenseCreated, LicenseUpdated, EntitlementsUpdated];

    public static bool IsKnown(string type) => All.Contains(type, StringComparer.Ordinal);
}

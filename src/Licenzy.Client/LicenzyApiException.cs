using System.Net;

namespace Licenzy.Client;

/// <summary>
/// Licenzy answered with an error (a problem+json body): <see cref="Code"/> is its stable
/// machine-readable code (API.md), such as <c>insufficient_usage</c> or <c>invalid_subject_ref</c>.
/// </summary>
public sealed class LicenzyApiException(HttpStatusCode status, string code, string? title, string? detail, long? usageRemaining = null)
    : Exception($"Licenzy answered {(int)status} {code}: {detail ?? title}")
{
    public HttpStatusCode Status { get; } = status;
    public string Code { get; } = code;
    public string? Title { get; } = title;
    public string? Detail { get; } = detail;

    /// <summary>With <c>409 insufficient_usage</c>: what is left.</summary>
    public long? UsageRemaining { get; } = usageRemaining;
}

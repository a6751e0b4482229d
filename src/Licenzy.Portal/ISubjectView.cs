using System.Text.Json;

namespace Licenzy.Portal;

/// <summary>
/// What the portal shows of one subject beyond the setup API: its entitlements (with why each is
/// or is not available) and licenses, read in the app that hosts the portal, as the runtime
/// routes would answer them. Licence keys are masked.
/// </summary>
public interface ISubjectView
{
    /// <summary><c>{subject_ref, version, as_of, entitlements:[...], licenses:[...]}</c>, or null when the subject_ref or mode is not valid.</summary>
    Task<JsonElement?> DescribeAsync(string tenantId, string mode, string subjectRef, CancellationToken ct);
}

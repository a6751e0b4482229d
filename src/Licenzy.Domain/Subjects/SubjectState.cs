using Licenzy.Domain.Entitlements;
using System.Text.Json.Serialization;
using Licenzy.Domain.Licenses;

namespace Licenzy.Domain.Subjects;

/// <summary>
/// A subject's whole commercial state: its entitlements, their usage, their licenses, and its version. One
/// document per (tenant, mode, subject), written only by that subject's actor.
/// </summary>
public sealed class SubjectState
{
    /// <summary>How many applied event ids are remembered to recognise redeliveries.</summary>
    public const int RememberedEvents = 512;

    public required string SubjectRef { get; init; }

    /// <summary>Grows by one with every change to entitlements or usage; never goes back.</summary>
    public long Version { get; set; }

    /// <summary>
    /// The head of the subject's history, while its writer holds it: kept beside the document
    /// under a key of its own (decision 019), never in it, so the document does not grow.
    /// </summary>
    [JsonIgnore]
    public SubjectHistoryHead? History { get; set; }

    public List<Entitlement> Entitlements { get; set; } = [];

    /// <summary>License keys provisioned for purchases of license-issuing products, in id order.</summary>
    public List<License> Licenses { get; set; } = [];

    /// <summary>Ids of the billing events already applied, newest last.</summary>
    public List<string> AppliedEventIds { get; set; } = [];

    public static SubjectState Empty(string subjectRef) => new() { SubjectRef = subjectRef };

    public Entitlement? Find(string entitlementId) => Entitlements.Find(e => e.Id == entitlementId);

    public License? FindLicense(string licenseId) => Licenses.Find(l => l.Id == licenseId);

    internal void RememberEvent(string eventId)
    {
        AppliedEventIds.Add(eventId);
        AppliedEventIds.RemoveRange(0, Math.Max(0, AppliedEventIds.Count - RememberedEvents));
    }
}

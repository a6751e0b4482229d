using Licenzy.Domain;

namespace Licenzy.Api.Subjects;

/// <summary>Which subject: tenant, mode and the caller's subject_ref. Also the subject actor's id.</summary>
public readonly record struct SubjectKey(string TenantId, Mode Mode, string SubjectRef)
{
    public string StateKey => StateKeys.Subject(TenantId, Mode, SubjectRef);

    /// <summary>Tenant ids and modes never contain '|', so the first two separate the parts even when subject_ref does.</summary>
    public string ActorId => $"{TenantId}|{Mode.ToWire()}|{SubjectRef}";

    public static SubjectKey FromActorId(string actorId)
    {
        var parts = actorId.Split('|', 3);
        if (parts.Length != 3 || !Modes.TryParse(parts[1], out var mode))
            throw new ArgumentException($"'{actorId}' is not a subject actor id", nameof(actorId));
        return new SubjectKey(parts[0], mode, parts[2]);
    }
}

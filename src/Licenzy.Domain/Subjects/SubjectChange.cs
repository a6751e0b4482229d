using System.Text.Json.Serialization;

namespace Licenzy.Domain.Subjects;

/// <summary>
/// One change in a subject's history, as stored: small, because the current page of them rides in
/// the subject's document. A spend keeps only its units and what was left (its type, source and
/// summary follow from those); any other change keeps its type, event id and summary.
/// </summary>
public sealed record SubjectChange
{
    public required DateTimeOffset At { get; init; }

    /// <summary>The subject's version after this change.</summary>
    public required long Version { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Source { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Type { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EventId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Summary { get; init; }

    /// <summary>Units spent, for a spend (usage.consumed); null otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Units { get; init; }

    /// <summary>Units left after a spend.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Remaining { get; init; }
}

using System.Text.Json.Serialization;

namespace Licenzy.Domain.Subjects;

/// <summary>
/// One change in a subject's history, as stored: small, because the current page of them is
/// rewritten with every change. A spend keeps only its units and what was left (its type, source and
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

/// <summary>
/// The head of a subject's history: the first version it keeps, the last one it has, and the
/// changes since the last full page (fewer than a page). Stored under its own key right after the
/// subject's document (<see cref="StateKeys.SubjectHistoryHead"/>), written with every change.
/// </summary>
public sealed class SubjectHistoryHead
{
    /// <summary>The version of the first change kept.</summary>
    public long From { get; set; }

    /// <summary>The version of the last change kept: the subject's version when it was written.</summary>
    public long Last { get; set; }

    public List<SubjectChange> Changes { get; set; } = [];
}

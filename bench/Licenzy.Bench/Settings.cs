namespace Licenzy.Bench;

/// <summary>How long and how hard each mode runs.</summary>
public sealed record Settings(
    string Mode,
    TimeSpan Warmup,
    TimeSpan Measure,
    int Subjects,
    int Connections,
    int LatencySamples,
    int MillionSubjects,
    TimeSpan Soak)
{
    /// <summary>Scenario names to run (`--only`), or null for all of them.</summary>
    public IReadOnlySet<string>? Only { get; init; }

    public bool Runs(string scenario) => Only is null || Only.Contains(scenario);

    public static Settings Quick => new("quick", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), 10_000, 32, 200, 0, TimeSpan.Zero);

    public static Settings Default => new("default", TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(15), 10_000, 32, 1_000, 1_000_000, TimeSpan.Zero);

    public static Settings ForSoak(TimeSpan length) => Default with { Mode = "soak", MillionSubjects = 0, Soak = length };
}

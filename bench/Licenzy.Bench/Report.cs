using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Licenzy.Bench;

/// <summary>One line of the table: a figure, its target, and whether it was met.</summary>
public sealed record ResultRow(
    string Scenario, string Metric, double Measured, string Unit, string Target, double? Ratio, bool? Pass, string? Note = null);

public sealed class Report
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public List<ResultRow> Rows { get; } = [];
    public Dictionary<string, object> Details { get; } = [];

    public void Add(ResultRow row)
    {
        Rows.Add(row);
        Console.WriteLine($"  -> {row.Scenario}: {row.Metric} = {Format(row.Measured)} {row.Unit}"
                          + (row.Ratio is { } r ? $" (ratio {r:0.00})" : "") + (row.Pass is { } p ? (p ? "  PASS" : "  MISS") : ""));
    }

    /// <summary>Sets every "x bare" ratio and verdict against the final baseline figure.</summary>
    public void ApplyBaseline(double bare)
    {
        for (var i = 0; i < Rows.Count; i++)
        {
            var row = Rows[i];
            var at = row.Target.IndexOf(" x bare", StringComparison.Ordinal);
            if (at < 0) continue;
            var factor = double.Parse(row.Target[3..at], CultureInfo.InvariantCulture);
            var ratio = row.Measured / bare;
            Rows[i] = row with { Ratio = ratio, Pass = row.Pass is not null && ratio >= factor && !(row.Note?.Contains("errors", StringComparison.Ordinal) ?? false) };
        }
    }

    public void Print(string mode)
    {
        Console.WriteLine();
        Console.WriteLine($"Licenzy bench ({mode}, {Environment.ProcessorCount} cores, loopback)");
        var header = new[] { "scenario", "metric", "measured", "ratio", "target", "result" };
        var lines = Rows.Select(r => new[]
        {
            r.Scenario, r.Metric, $"{Format(r.Measured)} {r.Unit}", r.Ratio is { } ratio ? ratio.ToString("0.00", CultureInfo.InvariantCulture) : "",
            r.Target, r.Pass switch { true => "pass", false => "MISS", null => "" },
        }).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(i => lines.Select(l => l[i].Length).Append(header[i].Length).Max()).ToArray();
        string Line(string[] cells) => "| " + string.Join(" | ", cells.Select((c, i) => c.PadRight(widths[i]))) + " |";
        Console.WriteLine(Line(header));
        Console.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var line in lines) Console.WriteLine(Line(line));
        foreach (var row in Rows.Where(r => r.Note is not null)) Console.WriteLine($"  note ({row.Scenario}, {row.Metric}): {row.Note}");
    }

    public async Task WriteAsync(string path, string mode, TimeSpan elapsed)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var document = new
        {
            Mode = mode,
            StartedAt = DateTimeOffset.UtcNow - elapsed,
            ElapsedSeconds = Math.Round(elapsed.TotalSeconds, 1),
            Machine = new { Cores = Environment.ProcessorCount, Os = Environment.OSVersion.VersionString, Runtime = Environment.Version.ToString() },
            Results = Rows,
            Details,
        };
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(document, Json));
    }

    public static string Format(double value) =>
        double.IsNaN(value) ? "n/a"
        : Math.Abs(value) >= 100 ? value.ToString("#,0", CultureInfo.InvariantCulture)
        : value.ToString("0.00", CultureInfo.InvariantCulture);
}

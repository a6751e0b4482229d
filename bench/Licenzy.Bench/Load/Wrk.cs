using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Licenzy.Bench.Load;

/// <summary>What wrk reported: its rate, latency percentiles (ms) and non-2xx/socket errors.</summary>
public sealed record WrkResult(double PerSecond, double P50Ms, double P90Ms, double P99Ms, long Requests, long Errors, string Output);

/// <summary>
/// Latency at a set load, measured by wrk: in C, with no garbage collector and no thread pool
/// of its own in the way, so the percentiles are the server's and the kernel's, not the
/// generator's. Each connection waits <c>delay</c> ms after every answer, which paces the load.
/// </summary>
public static partial class Wrk
{
    public static async Task<WrkResult> RunAsync(Uri url, int connections, TimeSpan duration, string luaScript, string workFolder)
    {
        var script = Path.Combine(workFolder, $"wrk-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(script, luaScript);
        var info = new ProcessStartInfo("wrk")
        {
            ArgumentList =
            {
                "-t", "1", "-c", connections.ToString(CultureInfo.InvariantCulture),
                "-d", $"{Math.Max(1, (int)duration.TotalSeconds)}s", "--latency", "-s", script, url.ToString(),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start wrk");
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"wrk failed ({process.ExitCode}): {error}{output}");

        var errors = 0L;
        if (NonSuccess().Match(output) is { Success: true } non) errors += long.Parse(non.Groups[1].Value, CultureInfo.InvariantCulture);
        if (SocketErrors().Match(output) is { Success: true } socket)
        {
            errors += socket.Groups.Values.Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture));
        }
        return new WrkResult(
            double.Parse(Rate().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            Percentile(output, "50"), Percentile(output, "90"), Percentile(output, "99"),
            long.Parse(Total().Match(output).Groups[1].Value, CultureInfo.InvariantCulture), errors, output);
    }

    /// <summary>A Lua script: <paramref name="request"/> is the body of wrk's <c>request()</c> function.</summary>
    public static string Script(string request, int delayMs, IEnumerable<(string Name, string Value)> headers)
    {
        var lines = new List<string> { "counter = 0" };
        lines.AddRange(headers.Select(h => $"wrk.headers[\"{h.Name}\"] = \"{h.Value}\""));
        lines.Add($"request = function()\n  counter = counter + 1\n  {request}\nend");
        lines.Add($"delay = function() return {delayMs} end");
        return string.Join('\n', lines) + '\n';
    }

    private static double Percentile(string output, string percent)
    {
        var match = Regex.Match(output, $@"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!match.Success) return double.NaN;
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "ms" => value, _ => value * 1000 };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex Rate();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex Total();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex NonSuccess();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();
}

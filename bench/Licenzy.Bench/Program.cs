using System.Diagnostics;
using Licenzy.Bench;

// bench/run passes: <standalone dll> <baseline dll> [--quick | --soak [minutes]] [--skip-million] [--only scenario,...] [--out path]
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Licenzy.Bench <Licenzy.Standalone.dll> <Baseline.dll> [--quick | --soak [minutes]] [--skip-million | --million N] [--only scenario,...] [--out file]");
    return 2;
}

var settings = Settings.Default;
var output = Path.Combine("bench", "results", "latest.json");
for (var i = 2; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--quick":
            settings = Settings.Quick;
            break;
        case "--soak":
            var minutes = i + 1 < args.Length && double.TryParse(args[i + 1], out var m) ? m : 10;
            if (i + 1 < args.Length && double.TryParse(args[i + 1], out _)) i++;
            settings = Settings.ForSoak(TimeSpan.FromMinutes(minutes));
            break;
        case "--million":
            settings = settings with { MillionSubjects = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture) };
            break;
        case "--skip-million":
            settings = settings with { MillionSubjects = 0 };
            break;
        case "--only":
            var names = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var unknown = names.Except(BenchRun.Scenarios).ToList();
            if (unknown.Count > 0)
            {
                Console.Error.WriteLine($"unknown scenario {string.Join(", ", unknown)}; known: {string.Join(", ", BenchRun.Scenarios)}");
                return 2;
            }
            settings = settings with { Only = names.ToHashSet(StringComparer.Ordinal) };
            break;
        case "--out":
            output = args[++i];
            break;
        default:
            Console.Error.WriteLine($"unknown option {args[i]}");
            return 2;
    }
}

// Bounded in time whatever happens: past the limit, or on INT/TERM, stop the children and exit.
var limit = settings.Mode switch { "quick" => TimeSpan.FromMinutes(3), "soak" => settings.Soak + TimeSpan.FromMinutes(5), _ => TimeSpan.FromMinutes(10) };
_ = Task.Delay(limit).ContinueWith(_ =>
{
    Console.Error.WriteLine($"bench: time limit of {limit.TotalMinutes} min reached; stopping");
    ChildApp.KillAll();
    Environment.Exit(4);
}, TaskScheduler.Default);
using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
using var onInt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);

var clock = Stopwatch.StartNew();
var report = new Report();
try
{
    await using var bench = await BenchRun.StartAsync(Path.GetFullPath(args[0]), Path.GetFullPath(args[1]), settings, report);
    await bench.RunAsync();
}
catch (Exception e)
{
    Console.Error.WriteLine($"bench failed: {e}");
    report.Details["failure"] = e.Message;
    report.Print(settings.Mode);
    await report.WriteAsync(output, settings.Mode, clock.Elapsed);
    return 1;
}

report.Print(settings.Mode);
await report.WriteAsync(output, settings.Mode, clock.Elapsed);
Console.WriteLine($"\nwritten to {output} in {clock.Elapsed.TotalSeconds:0} s");
return report.Rows.Any(r => r.Pass == false) ? 3 : 0;

static void Stop(System.Runtime.InteropServices.PosixSignalContext context)
{
    Console.Error.WriteLine($"bench: {context.Signal}; stopping");
    ChildApp.KillAll();
}

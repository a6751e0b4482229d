namespace Licenzy.Bench;

public sealed partial class BenchRun
{
    private Task MillionSubjectsAsync() => Task.CompletedTask;
}

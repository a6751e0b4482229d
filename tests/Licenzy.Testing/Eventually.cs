namespace Licenzy.Testing;

/// <summary>
/// For what another process or a background loop does, with nothing to observe but its answers:
/// ask until the answer is yes, within a bound.
/// </summary>
public static class Eventually
{
    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan within, TimeSpan? every = null)
    {
        using var deadline = new CancellationTokenSource(within);
        using var poll = new PeriodicTimer(every ?? TimeSpan.FromMilliseconds(100));
        do
        {
            if (await condition()) return true;
        }
        while (!deadline.IsCancellationRequested && await poll.WaitForNextTickAsync(CancellationToken.None));
        return false;
    }
}

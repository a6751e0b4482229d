namespace Licenzy.Infrastructure.Embedded;

/// <summary>How long a failed message waits: 1 s, 2 s, 4 s … doubling per attempt, at most 5 minutes.</summary>
internal static class RetryBackoff
{
    public static readonly TimeSpan First = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan Longest = TimeSpan.FromMinutes(5);

    /// <param name="failedAttempt">The attempt that just failed, from 1.</param>
    public static TimeSpan After(int failedAttempt)
    {
        // Past 2^9 s the cap applies anyway; stopping there keeps the shift from overflowing.
        var doublings = Math.Clamp(failedAttempt - 1, 0, 9);
        var delay = First * (1 << doublings);
        return delay < Longest ? delay : Longest;
    }
}

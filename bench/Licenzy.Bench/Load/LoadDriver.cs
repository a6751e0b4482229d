using System.Diagnostics;
using System.Net;

namespace Licenzy.Bench.Load;

/// <summary>What one request is: its bytes, and whether the caller wants to see the body.</summary>
/// <param name="Kind">Which of up to four kinds of request this is, for latency per kind.</param>
public readonly record struct Planned(byte[] Request, bool ReadBody = false, int Tag = 0, int Kind = 0);

/// <summary>What a load run saw.</summary>
public sealed class LoadResult
{
    public required LatencyHistogram Latency { get; init; }

    /// <summary>Latency by <see cref="Planned.Kind"/>.</summary>
    public required LatencyHistogram[] ByKind { get; init; }
    public required long Completed { get; init; }
    public required long Errors { get; init; }
    public required double Seconds { get; init; }
    public required IReadOnlyDictionary<int, long> Statuses { get; init; }
    public string? FirstError { get; init; }

    public double PerSecond => Completed / Seconds;
}

/// <summary>
/// Drives requests over a fixed set of keep-alive connections, either as fast as the server
/// answers (closed loop, <see cref="PollLoop"/>) or at a fixed rate (open loop, latency measured
/// from each request's planned start, so a stall is not hidden by the requests it delayed).
/// </summary>
public static class LoadDriver
{
    public delegate Planned Plan(long sequence);

    /// <summary>Called with each answer; returns false to count it as an error.</summary>
    public delegate bool Check(in Planned planned, WireResponse response);

    public static Task<LoadResult> ClosedAsync(IPEndPoint endpoint, int connections, TimeSpan duration, Plan plan,
        Check? check = null, CancellationToken ct = default) =>
        PollLoop.RunAsync(endpoint, connections, duration, plan, check, long.MaxValue, ct);

    /// <summary>Sends exactly <paramref name="count"/> requests (sequences 0..count-1) as fast as they are answered.</summary>
    public static Task<LoadResult> CountAsync(IPEndPoint endpoint, int connections, long count, Plan plan,
        Check? check = null, CancellationToken ct = default) =>
        PollLoop.RunAsync(endpoint, connections, TimeSpan.FromMinutes(30), plan, check, count, ct);

    /// <summary>
    /// Each connection starts a request every <c>connections / perSecond</c> seconds on its own
    /// schedule; a slow answer makes the following requests late, and that wait counts.
    /// </summary>
    public static async Task<LoadResult> PacedAsync(IPEndPoint endpoint, int connections, TimeSpan duration, double perSecond,
        Plan plan, Check? check = null, CancellationToken ct = default)
    {
        var tally = new LoadTally();
        long sequence = -1;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var interval = Stopwatch.Frequency * connections / perSecond;

        async Task Worker(int worker)
        {
            HttpWire? wire = null;
            var next = start + (long)(interval * worker / connections);
            try
            {
                while (!ct.IsCancellationRequested && next < end)
                {
                    long planned;
                    var wait = next - Stopwatch.GetTimestamp();
                    if (wait > 0)
                    {
                        // Idle until the planned start: the timer may wake us late, which is the
                        // generator's delay, not the server's, so measure from the actual start.
                        await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), ct);
                        planned = Stopwatch.GetTimestamp();
                    }
                    else
                    {
                        // Behind plan because the server was slow: that wait counts.
                        planned = next;
                    }
                    next += (long)interval;

                    var request = plan(Interlocked.Increment(ref sequence));
                    try
                    {
                        wire ??= await HttpWire.OpenAsync(endpoint, ct);
                        var response = await wire.SendAsync(request.Request, request.ReadBody, ct);
                        tally.Answered(request, planned, Stopwatch.GetTimestamp(), response, check);
                    }
                    catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
                    {
                        tally.Failed(e.Message);
                        wire?.Dispose();
                        wire = null;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                wire?.Dispose();
            }
        }

        await Task.WhenAll(Enumerable.Range(0, connections).Select(i => Task.Run(() => Worker(i), CancellationToken.None)));
        return tally.Result((double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency);
    }
}

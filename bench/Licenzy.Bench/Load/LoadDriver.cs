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
/// answers (closed loop) or at a fixed rate (open loop, latency measured from each request's
/// planned start, so a stall is not hidden by the requests it delayed).
/// </summary>
public static class LoadDriver
{
    public delegate Planned Plan(long sequence);

    /// <summary>Called with each answer; returns false to count it as an error.</summary>
    public delegate bool Check(in Planned planned, WireResponse response);

    public static Task<LoadResult> ClosedAsync(IPEndPoint endpoint, int connections, TimeSpan duration, Plan plan,
        Check? check = null, CancellationToken ct = default) =>
        RunAsync(endpoint, connections, duration, 0, plan, check, ct);

    /// <summary>Sends exactly <paramref name="count"/> requests (sequences 0..count-1) as fast as they are answered.</summary>
    public static Task<LoadResult> CountAsync(IPEndPoint endpoint, int connections, long count, Plan plan,
        Check? check = null, CancellationToken ct = default) =>
        RunAsync(endpoint, connections, TimeSpan.FromMinutes(30), 0, plan, check, ct, count);

    public static Task<LoadResult> PacedAsync(IPEndPoint endpoint, int connections, TimeSpan duration, double perSecond,
        Plan plan, Check? check = null, CancellationToken ct = default) =>
        RunAsync(endpoint, connections, duration, perSecond, plan, check, ct);

    private static async Task<LoadResult> RunAsync(IPEndPoint endpoint, int connections, TimeSpan duration, double perSecond,
        Plan plan, Check? check, CancellationToken ct, long limit = long.MaxValue)
    {
        var histogram = new LatencyHistogram();
        var byKind = new LatencyHistogram[4];
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, long>();
        long sequence = -1, completed = 0, errors = 0;
        string? firstError = null;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var interval = perSecond > 0 ? Stopwatch.Frequency * connections / perSecond : 0;

        async Task Worker(int worker)
        {
            HttpWire? wire = null;
            var next = start + (long)(interval * worker / connections);
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    long planned;
                    if (interval > 0)
                    {
                        if (next >= end) break;
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
                    }
                    else
                    {
                        planned = Stopwatch.GetTimestamp();
                        if (planned >= end) break;
                    }

                    var number = Interlocked.Increment(ref sequence);
                    if (number >= limit) break;
                    var request = plan(number);
                    try
                    {
                        wire ??= await HttpWire.OpenAsync(endpoint, ct);
                        var response = await wire.SendAsync(request.Request, request.ReadBody, ct);
                        var done = Stopwatch.GetTimestamp();
                        histogram.Record(planned, done);
                        if (request.Kind > 0)
                        {
                            var kind = Volatile.Read(ref byKind[request.Kind]);
                            if (kind is null)
                            {
                                Interlocked.CompareExchange(ref byKind[request.Kind], new LatencyHistogram(), null);
                                kind = byKind[request.Kind];
                            }
                            kind.Record(planned, done);
                        }
                        statuses.AddOrUpdate(response.Status, 1, static (_, n) => n + 1);
                        if (check is null ? response.Status >= 400 : !check(request, response))
                        {
                            Interlocked.Increment(ref errors);
                            Interlocked.CompareExchange(ref firstError, $"HTTP {response.Status}: {Trim(response.Body)}", null);
                        }
                        Interlocked.Increment(ref completed);
                    }
                    catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, e.Message, null);
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
        var seconds = (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency;
        return new LoadResult
        {
            Latency = histogram, ByKind = byKind, Completed = completed, Errors = errors, Seconds = seconds,
            Statuses = new Dictionary<int, long>(statuses), FirstError = firstError,
        };
    }

    private static string? Trim(string? body) => body is { Length: > 200 } ? body[..200] : body;
}

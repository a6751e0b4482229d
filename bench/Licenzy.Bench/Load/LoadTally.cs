using System.Collections.Concurrent;

namespace Licenzy.Bench.Load;

/// <summary>What a load run has seen so far: latency overall and per kind, statuses, errors. Thread-safe.</summary>
internal sealed class LoadTally
{
    private readonly LatencyHistogram _latency = new();
    private readonly LatencyHistogram?[] _byKind = new LatencyHistogram?[4];
    private readonly ConcurrentDictionary<int, long> _statuses = new();
    private long _completed;
    private long _errors;
    private string? _firstError;

    /// <summary>An answer to <paramref name="request"/>, started at <paramref name="started"/>; the check decides if it is an error.</summary>
    public void Answered(in Planned request, long started, long done, WireResponse response, LoadDriver.Check? check)
    {
        _latency.Record(started, done);
        if (request.Kind > 0)
        {
            var kind = Volatile.Read(ref _byKind[request.Kind]);
            if (kind is null)
            {
                Interlocked.CompareExchange(ref _byKind[request.Kind], new LatencyHistogram(), null);
                kind = _byKind[request.Kind]!;
            }
            kind.Record(started, done);
        }
        _statuses.AddOrUpdate(response.Status, 1, static (_, n) => n + 1);
        if (check is null ? response.Status >= 400 : !check(request, response))
        {
            Interlocked.Increment(ref _errors);
            Interlocked.CompareExchange(ref _firstError, $"HTTP {response.Status}: {Trim(response.Body)}", null);
        }
        Interlocked.Increment(ref _completed);
    }

    /// <summary>A request that got no answer (the connection failed).</summary>
    public void Failed(string message)
    {
        Interlocked.Increment(ref _errors);
        Interlocked.CompareExchange(ref _firstError, message, null);
    }

    public LoadResult Result(double seconds) => new()
    {
        Latency = _latency, ByKind = _byKind!, Completed = Interlocked.Read(ref _completed), Errors = Interlocked.Read(ref _errors),
        Seconds = seconds, Statuses = new Dictionary<int, long>(_statuses), FirstError = _firstError,
    };

    private static string? Trim(string? body) => body is { Length: > 200 } ? body[..200] : body;
}

using System.Diagnostics;

namespace Licenzy.Bench.Load;

/// <summary>Latencies in 10 µs buckets up to 2 s (slower ones land in the last bucket). Thread-safe.</summary>
public sealed class LatencyHistogram
{
    private const int BucketMicros = 10;
    private readonly long[] _buckets = new long[200_000];
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public void Record(long startTimestamp, long endTimestamp)
    {
        var micros = (endTimestamp - startTimestamp) * 1_000_000 / Stopwatch.Frequency;
        var index = (int)Math.Clamp(micros / BucketMicros, 0, _buckets.Length - 1);
        Interlocked.Increment(ref _buckets[index]);
        Interlocked.Increment(ref _count);
    }

    /// <summary>The latency at <paramref name="quantile"/> (0..1) in milliseconds; the bucket's upper edge.</summary>
    public double Quantile(double quantile)
    {
        var total = Count;
        if (total == 0) return double.NaN;
        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += Interlocked.Read(ref _buckets[i]);
            if (seen >= rank) return (i + 1) * BucketMicros / 1000.0;
        }
        return _buckets.Length * BucketMicros / 1000.0;
    }
}

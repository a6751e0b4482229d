using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Licenzy.Bench;

/// <summary>
/// The tenants' apps for the outbound scenario, inside the runner: Kestrel on 127.0.0.1, one path
/// per tenant (<c>/t/{index}</c>). Each message is answered 204 as soon as its body has arrived;
/// just before answering, the receiver notes how long after the message's <c>created_at</c> it
/// has it (Licenzy sets <c>created_at</c> just before the change's commit, on the same machine
/// clock). The hanging tenant's path never answers: its requests are held until Licenzy gives up
/// on them (15 s) or the receiver stops.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly int _hangingIndex;
    private readonly CancellationTokenSource _stop = new();
    private DeliveryTally _tally = new();

    private WebhookReceiver(WebApplication app, int hangingIndex)
    {
        _app = app;
        _hangingIndex = hangingIndex;
    }

    /// <summary>Where tenant <paramref name="index"/>'s endpoint is.</summary>
    public Uri EndpointUrl(int index) => new($"{_app.Urls.First()}/t/{index}");

    /// <summary>From now on, messages are counted in a new tally (one per phase).</summary>
    public DeliveryTally Begin()
    {
        var tally = new DeliveryTally();
        Volatile.Write(ref _tally, tally);
        return tally;
    }

    public static async Task<WebhookReceiver> StartAsync(int hangingIndex)
    {
        var builder = WebApplication.CreateSlimBuilder();
        // The runner's console is the report; the receiver says nothing.
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, hangingIndex);
        app.Run(receiver.ReceiveAsync);
        await app.StartAsync();
        return receiver;
    }

    /// <summary>No routing: the path is <c>/t/{index}</c>, nothing else is expected.</summary>
    private async Task ReceiveAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        if (request.Method != "POST" || !path.StartsWith("/t/", StringComparison.Ordinal) || !int.TryParse(path.AsSpan(3), out var index))
        {
            context.Response.StatusCode = 404;
            return;
        }
        var tally = Volatile.Read(ref _tally);
        if (index == _hangingIndex)
        {
            tally.Hung();
            using var held = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stop.Token);
            try
            {
                await Task.Delay(Timeout.Infinite, held.Token);
            }
            catch (OperationCanceledException)
            {
            }
            return;
        }

        // Licenzy sends a Content-Length (StringContent); read exactly that, then take the time.
        var body = new byte[request.ContentLength ?? 0];
        await request.Body.ReadExactlyAsync(body, context.RequestAborted);
        var arrived = DateTimeOffset.UtcNow;
        tally.Received(request.Headers["webhook-id"].ToString(), CreatedAt(body), arrived);
        context.Response.StatusCode = 204;
    }

    /// <summary>The top-level <c>created_at</c> of a message body, or null.</summary>
    private static DateTimeOffset? CreatedAt(byte[] body)
    {
        var reader = new Utf8JsonReader(body);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("created_at"))
                return reader.Read() && reader.TryGetDateTimeOffset(out var createdAt) ? createdAt : null;
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= 1) reader.Skip();
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stop.Dispose();
    }
}

/// <summary>What the receiver saw in one phase. Thread-safe.</summary>
public sealed class DeliveryTally
{
    private readonly ConcurrentDictionary<string, byte> _messageIds = new(StringComparer.Ordinal);
    // Every latency, in ms: a phase has a few thousand, and LatencyHistogram stops at 2 s, which a queue can pass.
    private readonly List<double> _latenciesMs = [];
    private long _repeats;
    private long _unreadable;
    private long _hangingRequests;

    /// <summary>Commit to 2xx at <paramref name="quantile"/> (0..1; 1 is the slowest) in ms, over every first arrival of a message; exact.</summary>
    public double Quantile(double quantile)
    {
        double[] sorted;
        lock (_latenciesMs) sorted = [.. _latenciesMs];
        if (sorted.Length == 0) return double.NaN;
        Array.Sort(sorted);
        return sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    /// <summary>
    /// The median of the first and of the last tenth of arrivals, in ms: whether the latency stayed
    /// level through the phase or grew, as a queue that the deliveries cannot keep up with does.
    /// </summary>
    public (double First, double Last) Trend()
    {
        double[] arrivals;
        lock (_latenciesMs) arrivals = [.. _latenciesMs];
        var tenth = Math.Max(1, arrivals.Length / 10);
        return arrivals.Length == 0 ? (double.NaN, double.NaN) : (Median(arrivals[..tenth]), Median(arrivals[^tenth..]));

        static double Median(double[] values)
        {
            Array.Sort(values);
            return values[values.Length / 2];
        }
    }

    /// <summary>Distinct messages received (by <c>webhook-id</c>) on the answering tenants' paths.</summary>
    public long Messages => _messageIds.Count;

    /// <summary>Arrivals of a message already received (delivery is at least once).</summary>
    public long Repeats => Interlocked.Read(ref _repeats);

    /// <summary>Bodies without a readable <c>created_at</c> or requests without a <c>webhook-id</c>.</summary>
    public long Unreadable => Interlocked.Read(ref _unreadable);

    /// <summary>Requests to the hanging tenant's path (each held until Licenzy gave up or the receiver stopped).</summary>
    public long HangingRequests => Interlocked.Read(ref _hangingRequests);

    public void Hung() => Interlocked.Increment(ref _hangingRequests);

    public void Received(string messageId, DateTimeOffset? createdAt, DateTimeOffset arrived)
    {
        if (messageId.Length == 0 || createdAt is null)
        {
            Interlocked.Increment(ref _unreadable);
            return;
        }
        if (!_messageIds.TryAdd(messageId, 0))
        {
            Interlocked.Increment(ref _repeats);
            return;
        }
        var ms = Math.Max(0, (arrived - createdAt.Value).TotalMilliseconds);
        lock (_latenciesMs) _latenciesMs.Add(ms);
    }
}

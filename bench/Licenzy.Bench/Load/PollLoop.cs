using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Licenzy.Bench.Load;

/// <summary>
/// Closed-loop load from one thread, the way wrk does it: every connection is a keep-alive socket
/// with one request out, one poll() wakes the loop for all that have an answer, each answer is
/// parsed in place and the connection's next request goes out at once. No tasks and no thread
/// pool between an answer and the next request, so on two cores the generator takes as little CPU
/// as it can from the server it measures, and the generator stays one thread however many
/// connections it drives.
/// </summary>
public static class PollLoop
{
    public static Task<LoadResult> RunAsync(IPEndPoint endpoint, int connections, TimeSpan duration, LoadDriver.Plan plan,
        LoadDriver.Check? check, long limit, CancellationToken ct)
    {
        var result = new TaskCompletionSource<LoadResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                result.SetResult(Run(endpoint, connections, duration, plan, check, limit, ct));
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        }) { IsBackground = true, Name = "bench-load" };
        thread.Start();
        return result.Task;
    }

    private sealed class Connection(Socket socket)
    {
        public Socket Socket { get; } = socket;
        public ReceiveBuffer Received { get; } = new();
        public Planned Request { get; set; }
        public long Started { get; set; }
    }

    private static LoadResult Run(IPEndPoint endpoint, int connections, TimeSpan duration, LoadDriver.Plan plan,
        LoadDriver.Check? check, long limit, CancellationToken ct)
    {
        var tally = new LoadTally();
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long sequence = 0;
        var waiting = new Dictionary<Socket, Connection>(connections, ReferenceEqualityComparer.Instance);
        var fresh = new Queue<Connection>();

        // Sends the connection's next request, or closes it when the run is over.
        void Next(Connection connection)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= end || sequence >= limit || ct.IsCancellationRequested)
            {
                Close(connection);
                return;
            }
            connection.Request = plan(sequence++);
            connection.Started = now;
            try
            {
                var request = connection.Request.Request.AsSpan();
                while (!request.IsEmpty) request = request[connection.Socket.Send(request)..];
                waiting[connection.Socket] = connection;
            }
            catch (SocketException e)
            {
                Failed(connection, e);
            }
        }

        void Close(Connection connection)
        {
            waiting.Remove(connection.Socket);
            connection.Socket.Dispose();
        }

        // As the async driver does: the request in flight is an error, and a new connection takes over.
        void Failed(Connection connection, Exception e)
        {
            tally.Failed(e.Message);
            Close(connection);
            if (Open() is { } replacement) fresh.Enqueue(replacement);
        }

        Connection? Open()
        {
            var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Connect(endpoint);
                return new Connection(socket);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                tally.Failed(e.Message);
                return null;
            }
        }

        for (var i = 0; i < connections; i++)
        {
            if (Open() is { } connection) fresh.Enqueue(connection);
        }

        var readable = new List<Socket>(connections);
        while (true)
        {
            while (fresh.TryDequeue(out var connection)) Next(connection);
            if (waiting.Count == 0) break;
            readable.Clear();
            readable.AddRange(waiting.Keys);
            Socket.Select(readable, null, null, 1_000_000);
            foreach (var socket in readable)
            {
                var connection = waiting[socket];
                try
                {
                    var free = connection.Received.Free();
                    connection.Received.Received(socket.Receive(free.Span));
                    if (!connection.Received.TryTake(connection.Request.ReadBody, out var response)) continue;
                    tally.Answered(connection.Request, connection.Started, Stopwatch.GetTimestamp(), response, check);
                    Next(connection);
                }
                catch (Exception e) when (e is IOException or SocketException)
                {
                    Failed(connection, e);
                }
            }
        }
        return tally.Result((double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency);
    }
}

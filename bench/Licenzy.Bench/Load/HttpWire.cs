using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Licenzy.Bench.Load;

/// <summary>A response as the load generator sees it: status and, when asked for, the body.</summary>
public readonly record struct WireResponse(int Status, string? Body);

/// <summary>
/// One keep-alive HTTP/1.1 connection over a raw socket. Requests are prepared bytes; responses
/// are parsed only as far as needed (status, Content-Length or chunked body). Far lighter than
/// HttpClient, so on two cores the generator takes as little CPU from the server as it can.
/// </summary>
public sealed class HttpWire : IDisposable
{
    private readonly Socket _socket;
    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    private HttpWire(Socket socket) => _socket = socket;

    public static async Task<HttpWire> OpenAsync(IPEndPoint endpoint, CancellationToken ct)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint, ct);
        return new HttpWire(socket);
    }

    public async Task<WireResponse> SendAsync(ReadOnlyMemory<byte> request, bool readBody, CancellationToken ct)
    {
        while (!request.IsEmpty)
        {
            var sent = await _socket.SendAsync(request, SocketFlags.None, ct);
            request = request[sent..];
        }

        // Headers.
        int headerEnd;
        while ((headerEnd = IndexOf(_buffer.AsSpan(_start, _end - _start), "\r\n\r\n"u8)) < 0) await FillAsync(ct);
        var headers = Encoding.ASCII.GetString(_buffer, _start, headerEnd);
        _start += headerEnd + 4;

        var status = int.Parse(headers.AsSpan(9, 3));
        long contentLength = -1;
        var chunked = false;
        foreach (var line in headers.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                contentLength = long.Parse(line.AsSpan(15).Trim());
            else if (line.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && line.Contains("chunked", StringComparison.OrdinalIgnoreCase))
                chunked = true;
        }

        var body = readBody ? new StringBuilder() : null;
        if (chunked)
        {
            while (true)
            {
                int lineEnd;
                while ((lineEnd = IndexOf(_buffer.AsSpan(_start, _end - _start), "\r\n"u8)) < 0) await FillAsync(ct);
                var size = Convert.ToInt32(Encoding.ASCII.GetString(_buffer, _start, lineEnd).Split(';')[0].Trim(), 16);
                _start += lineEnd + 2;
                await TakeAsync(size + 2, body, 2, ct);
                if (size == 0) break;
            }
        }
        else if (contentLength > 0)
        {
            await TakeAsync((int)contentLength, body, 0, ct);
        }
        return new WireResponse(status, body?.ToString());
    }

    /// <summary>Consumes <paramref name="count"/> bytes, keeping all but the last <paramref name="trailer"/> in <paramref name="body"/>.</summary>
    private async Task TakeAsync(int count, StringBuilder? body, int trailer, CancellationToken ct)
    {
        var keep = count - trailer;
        while (count > 0)
        {
            if (_end == _start) await FillAsync(ct);
            var take = Math.Min(count, _end - _start);
            var kept = Math.Min(take, Math.Max(keep, 0));
            if (body is not null && kept > 0) body.Append(Encoding.UTF8.GetString(_buffer, _start, kept));
            keep -= take;
            _start += take;
            count -= take;
        }
    }

    private async Task FillAsync(CancellationToken ct)
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            var live = _end - _start;
            if (_start == 0) Array.Resize(ref _buffer, _buffer.Length * 2);
            else Buffer.BlockCopy(_buffer, _start, _buffer, 0, live);
            _start = 0;
            _end = live;
        }
        var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, ct);
        if (read == 0) throw new IOException("The server closed the connection.");
        _end += read;
    }

    private static int IndexOf(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle) => haystack.IndexOf(needle);

    public void Dispose() => _socket.Dispose();
}

/// <summary>Builds request bytes.</summary>
public static class WireRequest
{
    public static byte[] Get(string path, string? bearer) =>
        Encoding.UTF8.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{Auth(bearer)}\r\n");

    public static byte[] PostJson(string path, string json, string? bearer, params (string Name, string Value)[] headers)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var extra = new StringBuilder();
        foreach (var (name, value) in headers) extra.Append(name).Append(": ").Append(value).Append("\r\n");
        var head = Encoding.UTF8.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{Auth(bearer)}Content-Type: application/json\r\nContent-Length: {body.Length}\r\n{extra}\r\n");
        return [.. head, .. body];
    }

    private static string Auth(string? bearer) => bearer is null ? "" : $"Authorization: Bearer {bearer}\r\n";
}

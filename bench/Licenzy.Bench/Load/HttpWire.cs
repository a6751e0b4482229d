using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Licenzy.Bench.Load;

/// <summary>A response as the load generator sees it: status and, when asked for, the body.</summary>
public readonly record struct WireResponse(int Status, string? Body);

/// <summary>
/// One keep-alive HTTP/1.1 connection over a raw socket. Requests are prepared bytes; responses
/// are parsed only as far as needed (<see cref="ResponseParser"/>). Far lighter than
/// HttpClient, so on two cores the generator takes as little CPU from the server as it can.
/// </summary>
public sealed class HttpWire : IDisposable
{
    private readonly Socket _socket;
    private readonly ReceiveBuffer _received = new();

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

        WireResponse response;
        while (!_received.TryTake(readBody, out response))
            _received.Received(await _socket.ReceiveAsync(_received.Free(), SocketFlags.None, ct));
        return response;
    }

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

/// <summary>
/// Requests that differ only in one zero-padded number, such as the subject <c>m_0001234</c>: built
/// once, then copied with the digits written in, so a run over a million subjects costs the
/// generator no more per request than one over a prepared set.
/// </summary>
public sealed class NumberedRequest
{
    private readonly byte[] _template;
    private readonly int _digitsAt;
    private readonly int _width;

    /// <param name="build">Builds the request for a given text, e.g. <c>AccessCheck</c>.</param>
    /// <param name="prefix">What comes before the digits, e.g. <c>m_</c>.</param>
    public NumberedRequest(Func<string, byte[]> build, string prefix, int width)
    {
        var marker = prefix + new string('0', width);
        _template = build(marker);
        var markerBytes = Encoding.ASCII.GetBytes(marker);
        var at = _template.AsSpan().IndexOf(markerBytes);
        if (at < 0 || _template.AsSpan(at + 1).IndexOf(markerBytes) >= 0)
            throw new ArgumentException($"The request must hold '{marker}' exactly once.", nameof(build));
        _digitsAt = at + prefix.Length;
        _width = width;
    }

    public byte[] For(long number)
    {
        var request = (byte[])_template.Clone();
        for (var i = _digitsAt + _width - 1; i >= _digitsAt; i--, number /= 10) request[i] = (byte)('0' + number % 10);
        return request;
    }
}

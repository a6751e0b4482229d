using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Licenzy.Testing;

/// <summary>
/// A JSON body sent without Content-Length, in pieces (chunked over a real connection), so the
/// server learns its size only by reading it.
/// </summary>
public sealed class UnknownLengthContent : HttpContent
{
    private const int Piece = 4096;
    private readonly byte[] _bytes;

    public UnknownLengthContent(string json)
    {
        _bytes = Encoding.UTF8.GetBytes(json);
        Headers.ContentType = new MediaTypeHeaderValue("application/json");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        for (var at = 0; at < _bytes.Length; at += Piece)
        {
            await stream.WriteAsync(_bytes.AsMemory(at, Math.Min(Piece, _bytes.Length - at)));
            await stream.FlushAsync();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

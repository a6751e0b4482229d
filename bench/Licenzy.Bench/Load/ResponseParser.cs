using System.Buffers.Text;
using System.Text;

namespace Licenzy.Bench.Load;

/// <summary>
/// Finds one complete HTTP/1.1 response at the start of a buffer: status, and the body when asked
/// for (Content-Length or chunked). Works on bytes, so a response the caller does not read costs
/// no allocation. Both transports use it: <see cref="HttpWire"/> and <see cref="PollLoop"/>.
/// </summary>
public static class ResponseParser
{
    /// <summary>
    /// True when <paramref name="data"/> starts with a whole response; <paramref name="length"/> is
    /// then how many bytes it took. False means more bytes are needed.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, bool readBody, out int length, out WireResponse response)
    {
        length = 0;
        response = default;
        var headerEnd = data.IndexOf("\r\n\r\n"u8);
        if (headerEnd < 0) return false;
        if (headerEnd < 12 || !Utf8Parser.TryParse(data.Slice(9, 3), out int status, out _))
            throw new IOException($"Not an HTTP response: {Encoding.ASCII.GetString(data[..Math.Min(headerEnd, 80)])}");

        long contentLength = -1;
        var chunked = false;
        var headers = data[..headerEnd];
        var lineStart = headers.IndexOf("\r\n"u8);
        while (lineStart >= 0)
        {
            var rest = headers[(lineStart + 2)..];
            var lineLength = rest.IndexOf("\r\n"u8);
            var line = lineLength < 0 ? rest : rest[..lineLength];
            var value = HeaderValue(line, "content-length"u8);
            if (!value.IsEmpty && !Utf8Parser.TryParse(value, out contentLength, out _)) throw new IOException("Bad Content-Length.");
            if (Contains(HeaderValue(line, "transfer-encoding"u8), "chunked"u8)) chunked = true;
            lineStart = lineLength < 0 ? -1 : lineStart + 2 + lineLength;
        }

        var at = headerEnd + 4;
        string? body = null;
        if (chunked)
        {
            var text = readBody ? new StringBuilder() : null;
            while (true)
            {
                var sizeEnd = data[at..].IndexOf("\r\n"u8);
                if (sizeEnd < 0) return false;
                var sizeText = data.Slice(at, sizeEnd);
                var extension = sizeText.IndexOf((byte)';');
                if (extension >= 0) sizeText = sizeText[..extension];
                if (!Utf8Parser.TryParse(sizeText.Trim(" "u8), out int size, out _, 'x')) throw new IOException("Bad chunk size.");
                at += sizeEnd + 2;
                if (data.Length < at + size + 2) return false;
                text?.Append(Encoding.UTF8.GetString(data.Slice(at, size)));
                at += size + 2;
                if (size == 0) break;
            }
            body = text?.ToString();
        }
        else if (contentLength > 0)
        {
            if (data.Length < at + contentLength) return false;
            if (readBody) body = Encoding.UTF8.GetString(data.Slice(at, (int)contentLength));
            at += (int)contentLength;
        }
        else if (readBody)
        {
            body = "";
        }

        length = at;
        response = new WireResponse(status, body);
        return true;
    }

    private static bool Contains(ReadOnlySpan<byte> text, ReadOnlySpan<byte> word)
    {
        for (var i = 0; i + word.Length <= text.Length; i++)
        {
            if (Ascii.EqualsIgnoreCase(text.Slice(i, word.Length), word)) return true;
        }
        return false;
    }

    /// <summary>The value of <paramref name="line"/> if it is the header <paramref name="name"/> (lower case), else empty.</summary>
    private static ReadOnlySpan<byte> HeaderValue(ReadOnlySpan<byte> line, ReadOnlySpan<byte> name)
    {
        if (line.Length <= name.Length || line[name.Length] != (byte)':' || !Ascii.EqualsIgnoreCase(line[..name.Length], name))
            return default;
        return line[(name.Length + 1)..].Trim(" \t"u8);
    }
}

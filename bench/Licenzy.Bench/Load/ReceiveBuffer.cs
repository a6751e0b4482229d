namespace Licenzy.Bench.Load;

/// <summary>Bytes received on one connection and not yet parsed; grows when a response outgrows it.</summary>
public sealed class ReceiveBuffer
{
    private byte[] _bytes = new byte[16 * 1024];
    private int _start;
    private int _end;

    private ReadOnlySpan<byte> Data => _bytes.AsSpan(_start, _end - _start);

    /// <summary>Room to receive into, made by moving the unparsed bytes to the front or growing.</summary>
    public Memory<byte> Free()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _bytes.Length)
        {
            var live = _end - _start;
            if (_start == 0) Array.Resize(ref _bytes, _bytes.Length * 2);
            else Buffer.BlockCopy(_bytes, _start, _bytes, 0, live);
            _start = 0;
            _end = live;
        }
        return _bytes.AsMemory(_end);
    }

    /// <summary>Records <paramref name="count"/> bytes received into <see cref="Free"/>.</summary>
    public void Received(int count)
    {
        if (count == 0) throw new IOException("The server closed the connection.");
        _end += count;
    }

    /// <summary>Takes one complete response off the front, if there is one.</summary>
    public bool TryTake(bool readBody, out WireResponse response)
    {
        if (!ResponseParser.TryParse(Data, readBody, out var length, out response)) return false;
        _start += length;
        return true;
    }
}

using System.Threading.Channels;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>
/// Wakes the dispatcher: on a publish in this process, on a finished delivery, and on each poll
/// tick. Signals that arrive while it is busy collapse into one, so none is lost and none piles up.
/// </summary>
internal sealed class OutboxSignal
{
    private readonly Channel<bool> _pending = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _pending.Writer.TryWrite(true);

    public async Task WaitAsync(CancellationToken cancellationToken) =>
        await _pending.Reader.ReadAsync(cancellationToken);
}

using System.Collections.Concurrent;
using Licenzy.Api.Subjects;
using Licenzy.Infrastructure.Actors;

namespace Licenzy.Api.Usage;

/// <summary>
/// Consumes waiting for the same subject go to its actor together. The actor takes one turn at a
/// time per subject, and each turn ends in a durable write; with one request per turn a busy
/// subject could go no faster than one sync of the store per consume. Here, while a turn runs,
/// the requests that arrive for that subject queue up and the next turn spends them all, in
/// arrival order, with one read and one write. Each request still gets its own answer and its
/// own idempotency record. Subjects with one request at a time see no difference.
/// </summary>
public sealed class UsageQueue(IActorClient actors)
{
    /// <summary>Requests spent in one turn at most.</summary>
    public const int MaxBatch = 256;

    private readonly ConcurrentDictionary<string, SubjectQueue> _queues = new(StringComparer.Ordinal);

    public Task<ConsumeResult> ConsumeAsync(SubjectKey subject, ConsumeUnits request)
    {
        var waiting = new Waiting(request);
        var actorId = subject.ActorId;
        while (true)
        {
            var queue = _queues.GetOrAdd(actorId, static _ => new SubjectQueue());
            bool startTurns;
            lock (queue)
            {
                // Retired by its last turn just now: a fresh queue takes over.
                if (queue.Retired) continue;
                queue.Requests.Add(waiting);
                startTurns = !queue.Running;
                queue.Running = true;
            }
            if (startTurns) _ = Task.Run(() => RunTurnsAsync(actorId, queue));
            return waiting.Result.Task;
        }
    }

    private async Task RunTurnsAsync(string actorId, SubjectQueue queue)
    {
        while (true)
        {
            List<Waiting> batch;
            lock (queue)
            {
                if (queue.Requests.Count == 0)
                {
                    queue.Running = false;
                    queue.Retired = true;
                    _queues.TryRemove(KeyValuePair.Create(actorId, queue));
                    return;
                }
                batch = queue.Requests.Count <= MaxBatch ? queue.Requests : queue.Requests[..MaxBatch];
                queue.Requests = queue.Requests.Count <= MaxBatch ? [] : queue.Requests[MaxBatch..];
            }

            try
            {
                // Not tied to any one caller: a caller that gives up must not cancel the others' turn.
                var answer = await actors.InvokeAsync<ConsumeBatch, ConsumeBatchResult>(SubjectActor.ActorType, actorId,
                    SubjectActor.ConsumeMethod, new ConsumeBatch(batch.Select(w => w.Request).ToList()), CancellationToken.None);
                for (var i = 0; i < batch.Count; i++) batch[i].Result.TrySetResult(answer.Results[i]);
            }
            catch (Exception exception)
            {
                foreach (var waiting in batch) waiting.Result.TrySetException(exception);
            }
        }
    }

    private sealed class SubjectQueue
    {
        public List<Waiting> Requests { get; set; } = [];
        public bool Running { get; set; }
        public bool Retired { get; set; }
    }

    private sealed class Waiting(ConsumeUnits request)
    {
        public ConsumeUnits Request { get; } = request;
        public TaskCompletionSource<ConsumeResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

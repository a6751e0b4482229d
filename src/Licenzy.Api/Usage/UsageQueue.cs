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
public sealed class UsageQueue(IActorProxies actors)
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
            if (startTurns) _ = RunTurnsAsync(actorId, queue);
            return waiting.Result.Task;
        }
    }

    private async Task RunTurnsAsync(string actorId, SubjectQueue queue)
    {
        var batch = NextBatch(actorId, queue);
        while (batch is not null)
        {
            ConsumeBatchResult? answer = null;
            Exception? failure = null;
            try
            {
                // Not tied to any one caller: a caller that gives up must not cancel the others' turn.
                answer = await actors.Get<ISubjectActor>(SubjectActor.ActorType, actorId)
                    .ConsumeAsync(new ConsumeBatch(batch.Select(w => w.Request).ToList()), CancellationToken.None);
                // Checked here, where a failure reaches every caller: past this point nothing may throw,
                // or the subject's queue would never be retired and its later consumes would wait forever.
                if (answer.Results.Count != batch.Count)
                    throw new InvalidOperationException($"The subject actor answered {answer.Results.Count} of {batch.Count} consumes.");
            }
            catch (Exception exception)
            {
                failure = exception;
            }

            var next = NextBatch(actorId, queue);
            for (var i = 0; i < batch.Count; i++)
            {
                var waiting = batch[i];
                waiting.Settle(answer?.Results[i], failure);
                // The callers resume side by side on the thread pool; but once no turn follows, this
                // thread has nothing left to do, so the last caller resumes here instead of waiting for a thread.
                if (next is null && i == batch.Count - 1) waiting.Resume();
                else ThreadPool.UnsafeQueueUserWorkItem(static w => w.Resume(), waiting, preferLocal: false);
            }
            batch = next;
        }
    }

    /// <summary>The requests for the next turn, or null when there are none and the queue is retired.</summary>
    private List<Waiting>? NextBatch(string actorId, SubjectQueue queue)
    {
        lock (queue)
        {
            if (queue.Requests.Count == 0)
            {
                queue.Running = false;
                queue.Retired = true;
                _queues.TryRemove(KeyValuePair.Create(actorId, queue));
                return null;
            }
            var batch = queue.Requests.Count <= MaxBatch ? queue.Requests : queue.Requests[..MaxBatch];
            queue.Requests = queue.Requests.Count <= MaxBatch ? [] : queue.Requests[MaxBatch..];
            return batch;
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
        private ConsumeResult? _result;
        private Exception? _failure;

        public ConsumeUnits Request { get; } = request;

        // Continuations run where Resume is called: on a queued work item, or inline for the last caller.
        public TaskCompletionSource<ConsumeResult> Result { get; } = new();

        public void Settle(ConsumeResult? result, Exception? failure)
        {
            _result = result;
            _failure = failure;
        }

        public void Resume()
        {
            if (_failure is not null) Result.TrySetException(_failure);
            else Result.TrySetResult(_result!);
        }
    }
}

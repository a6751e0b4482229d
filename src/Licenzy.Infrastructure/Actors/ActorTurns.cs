using System.Collections.Concurrent;

namespace Licenzy.Infrastructure.Actors;

/// <summary>
/// The embedded binding's actor mailboxes: what the Dapr runtime guarantees an actor, one turn at a
/// time per (type, id) and different ids side by side, for actors that run in this process. An
/// in-process actor runs each of its methods through <see cref="RunAsync{T}"/>. Turns are not
/// reentrant (as Licenzy configures Dapr's): an actor must not call itself. One async lock per
/// actor exists only while some caller holds or awaits it, so memory follows the number of busy
/// actors, not the number of subjects ever seen.
/// </summary>
public sealed class ActorTurns
{
    private readonly ConcurrentDictionary<(string Type, string Id), TurnLock> _locks = new();

    /// <summary>Runs <paramref name="turn"/> once the actor's earlier turns have ended, and ends the turn when it completes.</summary>
    public async Task<T> RunAsync<T>(string actorType, string actorId, Func<Task<T>> turn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(turn);
        await using (await EnterAsync(actorType, actorId, cancellationToken)) return await turn();
    }

    /// <summary>Waits for the actor's turn; dispose the result to end the turn.</summary>
    internal async Task<IAsyncDisposable> EnterAsync(string actorType, string actorId, CancellationToken cancellationToken)
    {
        var key = (actorType, actorId);
        TurnLock turnLock;
        while (true)
        {
            turnLock = _locks.GetOrAdd(key, static _ => new TurnLock());
            if (turnLock.TryJoin()) break;
            // That lock was just retired by its last user; a fresh one replaces it.
        }

        try
        {
            await turnLock.Gate.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(key, turnLock);
            throw;
        }

        return new Turn(this, key, turnLock);
    }

    /// <summary>How many actors have a lock right now (for tests of the memory bound).</summary>
    internal int Count => _locks.Count;

    private void Leave((string Type, string Id) key, TurnLock turnLock)
    {
        if (turnLock.TryRetire())
            _locks.TryRemove(new KeyValuePair<(string, string), TurnLock>(key, turnLock));
    }

    private sealed class Turn(ActorTurns owner, (string Type, string Id) key, TurnLock turnLock) : IAsyncDisposable
    {
        private int _ended;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                turnLock.Gate.Release();
                owner.Leave(key, turnLock);
            }
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A semaphore plus a count of its users; a count of -1 means retired for good.</summary>
    private sealed class TurnLock
    {
        private int _users;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public bool TryJoin()
        {
            while (true)
            {
                var users = Volatile.Read(ref _users);
                if (users < 0) return false;
                if (Interlocked.CompareExchange(ref _users, users + 1, users) == users) return true;
            }
        }

        /// <summary>Leaves; true when this was the last user and the lock is now retired.</summary>
        public bool TryRetire()
        {
            while (true)
            {
                var users = Volatile.Read(ref _users);
                var next = users == 1 ? -1 : users - 1;
                if (Interlocked.CompareExchange(ref _users, next, users) == users) return next < 0;
            }
        }
    }
}

using System.Collections.Concurrent;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>
/// One async lock per actor (type, id). A lock exists only while some caller holds or awaits it,
/// so memory follows the number of busy actors, not the number of subjects ever seen.
/// </summary>
internal sealed class ActorTurnLocks
{
    private readonly ConcurrentDictionary<(string Type, string Id), TurnLock> _locks = new();

    /// <summary>Waits for the actor's turn; dispose the result to end the turn.</summary>
    public async Task<IAsyncDisposable> EnterAsync(string actorType, string actorId, CancellationToken cancellationToken)
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

    private sealed class Turn(ActorTurnLocks owner, (string Type, string Id) key, TurnLock turnLock) : IAsyncDisposable
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

using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Licenzy.Infrastructure.Embedded;

/// <summary>
/// Tells whether the owner of an outbox lease still runs (decision 012). Each dispatcher holds an
/// exclusive OS lock (<c>flock</c> on Unix, a handle shared with no one on Windows) on a file of
/// its own in <c>outbox-owners/</c> beside the database, named after its owner id, from its start
/// until it stops. The OS lets go of the lock when the process ends, however it ends, so whoever
/// can take the lock knows that the owner is gone; pid reuse cannot fool it, since each owner id
/// is new. An owner with no file (an id from before this, or from a process that could not lock)
/// is never judged: its leases run out as before.
/// </summary>
internal sealed partial class LeaseOwners(SqliteDatabase database, ILogger<LeaseOwners>? log = null)
{
    public const string FolderName = "outbox-owners";
    private const string Extension = ".lock";

    private readonly ILogger<LeaseOwners> _log = log ?? NullLogger<LeaseOwners>.Instance;
    private readonly Lazy<bool> _locksHold = new(() => LocksHold(Path.Combine(database.FolderPath, FolderName)));

    private string Folder => Path.Combine(database.FolderPath, FolderName);

    /// <summary>
    /// Whether file locks hold here: a second exclusive open of a locked file is refused. Without
    /// that (a file system that ignores <c>flock</c>, or DOTNET_SYSTEM_IO_DISABLEFILELOCKING) no
    /// owner is judged, and this process's leases carry no file, so no one judges them either.
    /// </summary>
    public bool CanTell => _locksHold.Value;

    /// <summary>
    /// A new owner id for a dispatcher, with its lock taken, held until the returned owner is
    /// disposed (or the process ends).
    /// </summary>
    public LeaseOwner Acquire()
    {
        for (var attempt = 1; ; attempt++)
        {
            var key = Guid.NewGuid().ToString("N");
            var id = $"{Environment.MachineName}/{Environment.ProcessId}/{key}";
            if (!CanTell)
            {
                LogCannotTell(Folder);
                return new LeaseOwner(id, null);
            }

            var path = PathOf(key);
            FileStream held;
            try
            {
                held = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            }
            catch (IOException) when (attempt < 3)
            {
                // Unix creates and locks in two steps: a sweep locked the new file in between.
                continue;
            }

            // ... and may have removed it before our lock: then the lock is on no name, and useless.
            if (File.Exists(path)) return new LeaseOwner(id, held);
            held.Dispose();
        }
    }

    /// <summary>
    /// True only when <paramref name="ownerId"/> names an owner with a lock file whose lock can
    /// be taken now: that owner no longer runs. False when it runs, or cannot be told.
    /// </summary>
    public bool IsGone(string ownerId)
    {
        if (!CanTell || !TryKeyOf(ownerId, out var key)) return false;
        using var probe = TryLock(PathOf(key));
        return probe is not null;
    }

    /// <summary>
    /// Removes the lock files of owners that no longer run and that no lease names any more
    /// (<paramref name="stillNamed"/>: the owner ids in the outbox), so crashes leave nothing behind.
    /// </summary>
    public void Sweep(IReadOnlySet<string> stillNamed)
    {
        if (!CanTell) return;
        var named = stillNamed.Select(id => TryKeyOf(id, out var key) ? key : null).OfType<string>().ToHashSet(StringComparer.Ordinal);
        try
        {
            foreach (var path in Directory.EnumerateFiles(Folder, "*" + Extension))
            {
                if (named.Contains(Path.GetFileNameWithoutExtension(path))) continue;
                using var probe = TryLock(path);
                // While holding the lock, so that an owner that created this name meanwhile cannot
                // have locked it (Acquire then finds its name gone and picks another).
                if (probe is not null) File.Delete(path);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Tidying only: what is left is swept at the next start.
            LogSweepFailed(exception, Folder);
        }
    }

    /// <summary>The lock on <paramref name="path"/>, when no one else holds it; null otherwise.</summary>
    private static FileStream? TryLock(string path)
    {
        try
        {
            // Delete shared, so the sweep may remove the file while holding it (Windows asks for
            // that; on Unix it makes this a shared flock, which the owner's exclusive one still refuses).
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Delete);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Held by its owner, or gone, or unreadable: nothing to conclude from it.
            return null;
        }
    }

    private string PathOf(string key) => Path.Combine(Folder, key + Extension);

    // Owner ids end in 32 hex digits (Acquire's key); anything else has no lock file to look at.
    private static bool TryKeyOf(string ownerId, [NotNullWhen(true)] out string? key)
    {
        key = ownerId[(ownerId.LastIndexOf('/') + 1)..];
        return Guid.TryParseExact(key, "N", out _);
    }

    private static bool LocksHold(string folder)
    {
        var path = Path.Combine(folder, $"check-{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(folder);
            using var held = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None,
                bufferSize: 1, FileOptions.DeleteOnClose);
            using var second = TryLock(path);
            return second is null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [LoggerMessage(LogLevel.Warning,
        "File locks do not hold in {Folder}: outbox leases of a process that died are taken back only when they run out")]
    private partial void LogCannotTell(string folder);

    [LoggerMessage(LogLevel.Warning, "Could not remove the lock files of outbox lease owners gone from {Folder}")]
    private partial void LogSweepFailed(Exception exception, string folder);
}

/// <summary>A dispatcher's owner id, and the lock that says it runs, held until disposed.</summary>
internal sealed class LeaseOwner(string id, FileStream? held) : IDisposable
{
    public string Id { get; } = id;

    public void Dispose() => held?.Dispose();
}

using System.Collections.Concurrent;

namespace Licenzy.Api.Reads;

/// <summary>How the in-memory copies of documents stay within their capacity.</summary>
internal static class BoundedMemory
{
    /// <summary>Past <paramref name="capacity"/>, drops entries (in no particular order) down to 90 % of it.</summary>
    public static void TrimTo<TValue>(this ConcurrentDictionary<string, TValue> entries, int capacity)
    {
        var count = entries.Count;
        if (count <= capacity) return;
        var excess = count - capacity * 9 / 10;
        // Enumerating takes no lock and copies nothing; removing meanwhile is allowed.
        foreach (var entry in entries)
        {
            if (excess-- <= 0) break;
            entries.TryRemove(entry.Key, out _);
        }
    }
}

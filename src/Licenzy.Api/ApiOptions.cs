using System.ComponentModel.DataAnnotations;

namespace Licenzy.Api;

/// <summary>The Api app's settings, bound from the <c>Licenzy</c> section.</summary>
public sealed class ApiOptions
{
    public const string Section = "Licenzy";

    /// <summary>Bearer token for the setup API. Unset: the setup API refuses every call.</summary>
    public string? AdminToken { get; set; }

    /// <summary>
    /// The public base URL at which Stripe reaches the ingest app, used to tell operators their
    /// webhook URL. Unset: the base URL of the setup request (right for the standalone app).
    /// </summary>
    [Url]
    public string? PublicIngestUrl { get; set; }

    /// <summary>
    /// Subject documents kept in memory for reads (embedded binding only), and as many again by
    /// the subject actor for its next turn; 0 turns both off. Bounds memory: beyond it, entries
    /// are dropped and read again from the store.
    /// </summary>
    [Range(0, 10_000_000)]
    public int ReadCacheCapacity { get; set; } = 100_000;

    /// <summary>
    /// Subjects whose access is kept in memory for access checks (embedded binding only, about
    /// 60 bytes each): loaded from the store at start and kept current by every write. Beyond it,
    /// further subjects are checked from the store; 0 turns it off.
    /// </summary>
    [Range(0, 100_000_000)]
    public int AccessIndexCapacity { get; set; } = 2_000_000;
}

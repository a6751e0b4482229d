using Microsoft.Extensions.Options;

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
    public string? PublicIngestUrl { get; set; }

    /// <summary>
    /// Subject documents kept in memory for reads (embedded binding only), and as many again by
    /// the subject actor for its next turn; 0 turns both off. Bounds memory: beyond it, entries
    /// are dropped and read again from the store.
    /// </summary>
    public int ReadCacheCapacity { get; set; } = 100_000;

    /// <summary>
    /// Subjects whose access is kept in memory for access checks (embedded binding only, about
    /// 60 bytes each): loaded from the store at start and kept current by every write. Beyond it,
    /// further subjects are checked from the store; 0 turns it off.
    /// </summary>
    public int AccessIndexCapacity { get; set; } = 2_000_000;

    internal const int MaxReadCacheCapacity = 10_000_000;
    internal const int MaxAccessIndexCapacity = 100_000_000;
}

/// <summary>Stops the app at start, naming the key and its allowed values, when a setting cannot work.</summary>
internal sealed class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    private const string Prefix = ApiOptions.Section;

    public ValidateOptionsResult Validate(string? name, ApiOptions options)
    {
        var failures = new List<string>();
        if (options.PublicIngestUrl is { } url
            && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
            failures.Add($"{Prefix}:PublicIngestUrl is \"{url}\"; it must be an absolute http(s) URL.");
        if (options.ReadCacheCapacity is < 0 or > ApiOptions.MaxReadCacheCapacity)
            failures.Add($"{Prefix}:ReadCacheCapacity is {options.ReadCacheCapacity}; it must be between 0 and {ApiOptions.MaxReadCacheCapacity}.");
        if (options.AccessIndexCapacity is < 0 or > ApiOptions.MaxAccessIndexCapacity)
            failures.Add($"{Prefix}:AccessIndexCapacity is {options.AccessIndexCapacity}; it must be between 0 and {ApiOptions.MaxAccessIndexCapacity}.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

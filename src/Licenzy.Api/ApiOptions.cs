using Microsoft.Extensions.Options;

namespace Licenzy.Api;

/// <summary>The Api app's settings, bound from the <c>Licenzy</c> section.</summary>
public sealed class ApiOptions
{
    public const string Section = "Licenzy";

    /// <summary>Bearer token for the setup API. Unset: the setup API refuses every call.</summary>
    public string? AdminToken { get; set; }

    /// <summary>
    /// The address at which Stripe and tenants reach Licenzy: the base of the webhook URL the setup
    /// API gives, and of the endpoint it registers with Stripe. Unset: registering is refused, and
    /// the webhook URL given is the base URL of the setup request (right for the standalone app).
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>The older name of <see cref="PublicBaseUrl"/>, still read so that deployments that set it keep working.</summary>
    public string? PublicIngestUrl { get; set; }

    /// <summary><see cref="PublicBaseUrl"/>, else its alias, without a trailing slash; null when neither is set.</summary>
    public string? PublicBase => (string.IsNullOrEmpty(PublicBaseUrl) ? PublicIngestUrl : PublicBaseUrl) is { Length: > 0 } url ? url.TrimEnd('/') : null;

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
        foreach (var (key, url) in new[] { (nameof(ApiOptions.PublicBaseUrl), options.PublicBaseUrl), (nameof(ApiOptions.PublicIngestUrl), options.PublicIngestUrl) })
        {
            if (url is { Length: > 0 } && !IsHttpUrl(url))
                failures.Add($"{Prefix}:{key} is \"{url}\"; it must be an absolute http(s) URL.");
        }
        if (options.ReadCacheCapacity is < 0 or > ApiOptions.MaxReadCacheCapacity)
            failures.Add($"{Prefix}:ReadCacheCapacity is {options.ReadCacheCapacity}; it must be between 0 and {ApiOptions.MaxReadCacheCapacity}.");
        if (options.AccessIndexCapacity is < 0 or > ApiOptions.MaxAccessIndexCapacity)
            failures.Add($"{Prefix}:AccessIndexCapacity is {options.AccessIndexCapacity}; it must be between 0 and {ApiOptions.MaxAccessIndexCapacity}.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsHttpUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}

using System.Text.RegularExpressions;

namespace Licenzy.Sandbox;

/// <summary>
/// Where the app can be reached, worked out from what it listens on (<c>Urls</c>): the sandbox
/// needs an address it can hand to a browser and call itself.
/// </summary>
public static partial class SandboxAddress
{
    public const string UrlsKey = "Urls";

    /// <summary>Kestrel's own default when <c>Urls</c> is not set.</summary>
    public const string KestrelDefault = "http://localhost:5000";

    /// <summary>
    /// The first of the <c>;</c>-separated <paramref name="urls"/>, with a listen-on-all host
    /// (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>, <c>[::]</c>) turned into <c>localhost</c>. Null when it
    /// cannot be an address, e.g. a dynamic port (<c>:0</c>).
    /// </summary>
    public static Uri? FromUrls(string? urls)
    {
        var first = (urls ?? KestrelDefault).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (first is null) return null;
        var match = ListenUrl().Match(first);
        if (!match.Success) return null;
        var host = match.Groups["host"].Value is "*" or "+" or "0.0.0.0" or "[::]" ? "localhost" : match.Groups["host"].Value;
        return Uri.TryCreate($"{match.Groups["scheme"].Value}://{host}{match.Groups["rest"].Value}", UriKind.Absolute, out var uri) && IsUsable(uri)
            ? uri
            : null;
    }

    public static bool IsUsable(Uri? uri) =>
        uri is { IsAbsoluteUri: true } && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Port != 0
        && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment);

    [GeneratedRegex(@"^(?<scheme>https?)://(?<host>\[[^\]]*\]|[^:/\[\]]+)(?<rest>(:\d+)?(/.*)?)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ListenUrl();
}

namespace Licenzy.Stripe;

/// <summary>How Licenzy reaches Stripe. Bound from <c>Licenzy:Stripe</c>.</summary>
public sealed class StripeOptions
{
    public const string SectionName = "Licenzy:Stripe";

    /// <summary>Stripe's API base URL; tests point it at a local stand-in.</summary>
    public Uri ApiBase { get; set; } = new("https://api.stripe.com");

    /// <summary>How long one HTTP attempt may take, body included.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries after the first attempt for transient failures; 0 turns retrying off.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>The first retry's typical delay; later ones grow exponentially, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    // Polly's own bounds for a timeout are 10 ms to one day; checking them here names the key.
    internal static readonly TimeSpan MinAttemptTimeout = TimeSpan.FromMilliseconds(10);
    internal static readonly TimeSpan MaxAttemptTimeout = TimeSpan.FromDays(1);
    internal const int RetryLimit = 10;
    internal static readonly TimeSpan MaxRetryBaseDelay = TimeSpan.FromMinutes(1);

    internal bool HasHttpApiBase =>
        ApiBase is { IsAbsoluteUri: true } uri && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}

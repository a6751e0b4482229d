using Microsoft.Extensions.Options;

namespace Licenzy.Api.Webhooks;

/// <summary>The outbound webhook settings, bound from <c>Licenzy:Webhooks</c>.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Licenzy:Webhooks";

    /// <summary>
    /// Whether endpoint URLs may be on loopback or private networks. Unset: true in Development
    /// (a receiver on the developer's machine), false elsewhere, so that a tenant cannot make
    /// Licenzy call into the network it runs in.
    /// </summary>
    public bool? AllowPrivateNetworks { get; set; }

    /// <summary>
    /// The delays before each retry of a failed attempt, in order; after the last the delivery is
    /// failed. An array so that configuration replaces the default rather than appending to it.
    /// </summary>
    public TimeSpan[]? RetrySchedule { get; set; }

    /// <summary>5 s to 10 h, 25 h 42 min 35 s in all: API.md promises at least 24 hours of retries.</summary>
    public static readonly IReadOnlyList<TimeSpan> DefaultRetrySchedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(4),
        TimeSpan.FromHours(8), TimeSpan.FromHours(10),
    ];

    public IReadOnlyList<TimeSpan> EffectiveRetrySchedule => RetrySchedule is { Length: > 0 } schedule ? schedule : DefaultRetrySchedule;

    public bool PrivateNetworksAllowed => AllowPrivateNetworks == true;

    /// <summary>API.md: a 2xx within 15 seconds delivers a message; anything later is a failed attempt.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(15);

    internal static readonly TimeSpan MinimumRetryTotal = TimeSpan.FromHours(24);
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromDays(1);
    internal const int MaxRetries = 30;
}

/// <summary>Fills the default that depends on the environment, before validation.</summary>
internal sealed class WebhookDefaults(IHostEnvironment environment) : IConfigureOptions<WebhookOptions>
{
    public void Configure(WebhookOptions options) => options.AllowPrivateNetworks ??= environment.IsDevelopment();
}

/// <summary>Stops the app at start, naming the key, when the schedule cannot keep API.md's promise.</summary>
internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    private const string Key = WebhookOptions.Section + ":RetrySchedule";

    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        if (options.RetrySchedule is not { Length: > 0 } schedule) return ValidateOptionsResult.Success;
        var failures = new List<string>();
        if (schedule.Length > WebhookOptions.MaxRetries)
            failures.Add($"{Key} has {schedule.Length} delays; it may have at most {WebhookOptions.MaxRetries}.");
        if (schedule.Any(delay => delay <= TimeSpan.Zero || delay > WebhookOptions.MaxRetryDelay))
            failures.Add($"{Key}: every delay must be more than 0 and at most 1.00:00:00.");
        var total = schedule.Aggregate(TimeSpan.Zero, (sum, delay) => sum + delay);
        if (total < WebhookOptions.MinimumRetryTotal)
            failures.Add($"{Key} adds up to {total}; deliveries must be retried for at least 1.00:00:00 in all.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

using Licenzy.Sandbox.Wire;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StripeNet = global::Stripe;

namespace Licenzy.Sandbox;

/// <summary>The offline Stripe sandbox's settings, bound from <c>Licenzy:Sandbox</c>.</summary>
public sealed class SandboxOptions
{
    public const string SectionName = "Licenzy:Sandbox";

    /// <summary>
    /// A fixed, documented, public value: the sandbox is test mode on a developer's machine, and
    /// operators connect Stripe in the sandbox with exactly this secret.
    /// </summary>
    public const string DefaultWebhookSecret = "whsec_licenzy_sandbox";

    /// <summary>Serve the sandbox. Unset: on in Development, off everywhere else.</summary>
    public bool? Enabled { get; set; }

    /// <summary>
    /// Where this app is reached: the checkout pages, Licenzy's Stripe client and the webhooks all
    /// use it. Unset: the first URL in <c>Urls</c>.
    /// </summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>The secret the sandbox signs its webhooks with.</summary>
    public string WebhookSecret { get; set; } = DefaultWebhookSecret;

    /// <summary>How long one webhook delivery to the ingest route may take.</summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The API version of the sandbox's events and the shapes of their objects, as a Stripe webhook
    /// endpoint's version decides them. By default the one Stripe.net pins, so that Stripe.net reads
    /// the events as they are, with its default settings.
    /// </summary>
    public string ApiVersion { get; set; } = StripeNet.StripeConfiguration.ApiVersion;

    /// <summary><see cref="ApiVersion"/>, read; valid once the options are validated.</summary>
    public StripeApiVersion EventApiVersion => StripeApiVersion.Parse(ApiVersion);

    public bool IsEnabled => Enabled == true;

    /// <summary><see cref="BaseUrl"/> without a trailing slash, for building absolute URLs.</summary>
    public string Origin => BaseUrl?.AbsoluteUri.TrimEnd('/') ?? throw new InvalidOperationException($"{SectionName}:BaseUrl is not known.");

    /// <summary>What Licenzy's Stripe client is pointed at when the sandbox is on.</summary>
    public Uri StripeApiBase => new($"{Origin}/sandbox/stripe");

    internal static readonly TimeSpan MinDeliveryTimeout = TimeSpan.FromMilliseconds(100);
    internal static readonly TimeSpan MaxDeliveryTimeout = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Fills the defaults that depend on the host (environment, <c>Urls</c>), before validation.
/// </summary>
internal sealed class SandboxDefaults(IHostEnvironment environment, IConfiguration configuration) : IConfigureOptions<SandboxOptions>
{
    public void Configure(SandboxOptions options)
    {
        options.Enabled ??= environment.IsDevelopment();
        options.BaseUrl ??= SandboxAddress.FromUrls(configuration[SandboxAddress.UrlsKey]);
    }
}

/// <summary>Checks the settings at start, with messages that name the key to fix.</summary>
internal sealed class SandboxOptionsValidation(IHostEnvironment environment) : IValidateOptions<SandboxOptions>
{
    private const string Prefix = SandboxOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, SandboxOptions options)
    {
        var failures = new List<string>();
        if (options.IsEnabled && environment.IsProduction())
        {
            failures.Add($"{Prefix}:Enabled is true in Production. The sandbox is an offline stand-in for Stripe's test mode, "
                + "for development and CI only: remove the setting (or set it to false) and connect the real Stripe.");
        }

        if (string.IsNullOrWhiteSpace(options.WebhookSecret) || !options.WebhookSecret.StartsWith("whsec_", StringComparison.Ordinal))
        {
            failures.Add($"{Prefix}:WebhookSecret must be a webhook signing secret starting with whsec_.");
        }

        if (options.DeliveryTimeout < SandboxOptions.MinDeliveryTimeout || options.DeliveryTimeout > SandboxOptions.MaxDeliveryTimeout)
        {
            failures.Add($"{Prefix}:DeliveryTimeout must be between 00:00:00.1 and 00:05:00.");
        }

        if (!StripeApiVersion.TryParse(options.ApiVersion, out _))
        {
            failures.Add($"{Prefix}:ApiVersion must be a Stripe API version, such as {StripeNet.StripeConfiguration.ApiVersion} or 2024-06-20.");
        }

        if (options.IsEnabled && !SandboxAddress.IsUsable(options.BaseUrl))
        {
            failures.Add($"{Prefix}:BaseUrl must be an absolute http(s) URL at which this app is reached (e.g. http://localhost:5080). "
                + "Set it when Urls is not set or listens on a dynamic port.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

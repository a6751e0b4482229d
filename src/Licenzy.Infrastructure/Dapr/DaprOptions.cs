using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>
/// How to reach the sidecar. The sidecar's own environment variables are honoured
/// (<c>DAPR_HTTP_ENDPOINT</c>, <c>DAPR_HTTP_PORT</c>, <c>DAPR_API_TOKEN</c>, <c>APP_API_TOKEN</c>);
/// the <c>Licenzy:Dapr</c> section overrides them.
/// </summary>
public sealed class DaprOptions
{
    public const string SectionName = "Licenzy:Dapr";

    /// <summary>The sidecar's HTTP API. Default: <c>DAPR_HTTP_ENDPOINT</c>, else http://127.0.0.1:<c>DAPR_HTTP_PORT</c> (3500).</summary>
    public Uri? HttpEndpoint { get; set; }

    /// <summary>Sent as <c>dapr-api-token</c> on every call to the sidecar. Default: <c>DAPR_API_TOKEN</c>.</summary>
    public string? ApiToken { get; set; }

    /// <summary>Required as <c>dapr-api-token</c> on every call from the sidecar. Default: <c>APP_API_TOKEN</c>.</summary>
    public string? AppApiToken { get; set; }

    /// <summary>How long the app waits at start for the sidecar to be ready.</summary>
    public TimeSpan SidecarWaitTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Timeout of one call to the sidecar.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Fills what the section left unset from the sidecar's environment variables.</summary>
    internal sealed class FromEnvironment(IConfiguration configuration) : IPostConfigureOptions<DaprOptions>
    {
        public void PostConfigure(string? name, DaprOptions options)
        {
            if (options.HttpEndpoint is null)
            {
                var endpoint = configuration["DAPR_HTTP_ENDPOINT"];
                var port = configuration["DAPR_HTTP_PORT"] ?? "3500";
                options.HttpEndpoint = Uri.TryCreate(endpoint, UriKind.Absolute, out var parsed)
                    ? parsed
                    : new Uri($"http://127.0.0.1:{port}");
            }
            options.ApiToken ??= NullIfEmpty(configuration["DAPR_API_TOKEN"]);
            options.AppApiToken ??= NullIfEmpty(configuration["APP_API_TOKEN"]);
        }

        private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
    }

    internal sealed class Validator : IValidateOptions<DaprOptions>
    {
        public ValidateOptionsResult Validate(string? name, DaprOptions options)
        {
            var failures = new List<string>();
            if (options.HttpEndpoint is not { IsAbsoluteUri: true } endpoint || (endpoint.Scheme != "http" && endpoint.Scheme != "https"))
                failures.Add($"{SectionName}:HttpEndpoint (or DAPR_HTTP_ENDPOINT / DAPR_HTTP_PORT) must give an http(s) URL of the sidecar.");
            if (options.SidecarWaitTimeout <= TimeSpan.Zero)
                failures.Add($"{SectionName}:SidecarWaitTimeout must be a positive time span.");
            if (options.CallTimeout <= TimeSpan.Zero)
                failures.Add($"{SectionName}:CallTimeout must be a positive time span.");
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}

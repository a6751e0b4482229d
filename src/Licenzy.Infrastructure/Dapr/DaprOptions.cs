using Dapr;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>
/// How to reach the sidecar, and how long to wait for it. The sidecar's own variables are honoured
/// as the Dapr SDK reads them (<c>DAPR_HTTP_ENDPOINT</c> / <c>DAPR_HTTP_PORT</c>,
/// <c>DAPR_GRPC_ENDPOINT</c> / <c>DAPR_GRPC_PORT</c>, <c>DAPR_API_TOKEN</c>, <c>APP_API_TOKEN</c>);
/// the <c>Licenzy:Dapr</c> section overrides them.
/// </summary>
public sealed class DaprOptions
{
    public const string SectionName = "Licenzy:Dapr";

    /// <summary>The sidecar's HTTP API (health, actor calls). Default: as the SDK finds it, http://localhost:3500.</summary>
    public Uri? HttpEndpoint { get; set; }

    /// <summary>The sidecar's gRPC API (state, pub/sub). Default: as the SDK finds it, http://localhost:50001.</summary>
    public Uri? GrpcEndpoint { get; set; }

    /// <summary>Sent as <c>dapr-api-token</c> on every call to the sidecar. Default: <c>DAPR_API_TOKEN</c>.</summary>
    public string? ApiToken { get; set; }

    /// <summary>Required as <c>dapr-api-token</c> on every call from the sidecar. Default: <c>APP_API_TOKEN</c>.</summary>
    public string? AppApiToken { get; set; }

    /// <summary>How long the app waits at start for the sidecar to be ready.</summary>
    public TimeSpan SidecarWaitTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Timeout of one call to the sidecar.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The HTTP endpoint without a trailing slash (the actor client appends "/v1.0/..."); empty when
    /// unset, which the validator reports at start.
    /// </summary>
    public string HttpEndpointText => HttpEndpoint?.AbsoluteUri.TrimEnd('/') ?? "";

    /// <summary>Fills what the section left unset the way the Dapr SDK does, from the sidecar's variables.</summary>
    internal sealed class FromEnvironment(IConfiguration configuration) : IPostConfigureOptions<DaprOptions>
    {
        public void PostConfigure(string? name, DaprOptions options)
        {
            options.HttpEndpoint ??= EndpointOrNull(() => DaprDefaults.GetDefaultHttpEndpoint(configuration));
            options.GrpcEndpoint ??= EndpointOrNull(() => DaprDefaults.GetDefaultGrpcEndpoint(configuration));
            options.ApiToken ??= NullIfEmpty(DaprDefaults.GetDefaultDaprApiToken(configuration));
            options.AppApiToken ??= NullIfEmpty(DaprDefaults.GetDefaultAppApiToken(configuration));
        }

        /// <summary>A port that is not a number is left for the validator to name, not thrown at start.</summary>
        private static Uri? EndpointOrNull(Func<string> endpoint)
        {
            try
            {
                return Uri.TryCreate(endpoint(), UriKind.Absolute, out var uri) ? uri : null;
            }
            catch (FormatException)
            {
                // Includes UriFormatException.
                return null;
            }
        }

        private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
    }

    internal sealed class Validator : IValidateOptions<DaprOptions>
    {
        public ValidateOptionsResult Validate(string? name, DaprOptions options)
        {
            var failures = new List<string>();
            if (!IsHttpUrl(options.HttpEndpoint))
                failures.Add($"{SectionName}:HttpEndpoint (or DAPR_HTTP_ENDPOINT / DAPR_HTTP_PORT) must give an http(s) URL of the sidecar.");
            if (!IsHttpUrl(options.GrpcEndpoint))
                failures.Add($"{SectionName}:GrpcEndpoint (or DAPR_GRPC_ENDPOINT / DAPR_GRPC_PORT) must give an http(s) URL of the sidecar's gRPC port.");
            if (options.SidecarWaitTimeout <= TimeSpan.Zero)
                failures.Add($"{SectionName}:SidecarWaitTimeout must be a positive time span.");
            if (options.CallTimeout <= TimeSpan.Zero)
                failures.Add($"{SectionName}:CallTimeout must be a positive time span.");
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        private static bool IsHttpUrl(Uri? uri) => uri is { IsAbsoluteUri: true } && (uri.Scheme == "http" || uri.Scheme == "https");
    }
}

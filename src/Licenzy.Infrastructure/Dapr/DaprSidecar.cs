using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Licenzy.Infrastructure.Dapr;

/// <summary>
/// The one place that talks to the Dapr sidecar's HTTP API (v1.0). Everything Dapr-specific on
/// the wire (paths, the token header, error bodies) is here or in this folder.
/// </summary>
public sealed class DaprSidecar(HttpClient http, IOptions<DaprOptions> options)
{
    public const string TokenHeader = "dapr-api-token";
    public const string HttpClientName = "Licenzy.Dapr";

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct,
        string contentType = "application/json", IEnumerable<KeyValuePair<string, string>>? headers = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(options.Value.HttpEndpoint!, path));
        if (options.Value.ApiToken is { } token) request.Headers.TryAddWithoutValidation(TokenHeader, token);
        foreach (var (name, value) in headers ?? []) request.Headers.TryAddWithoutValidation(name, value);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), new System.Net.Http.Headers.MediaTypeHeaderValue(contentType), LicenzyJson.Options);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.CallTimeout);
        return await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
    }

    /// <summary>Throws with Dapr's error code and message when the call failed for a reason other than those the caller handles.</summary>
    public static async Task EnsureSuccessAsync(HttpResponseMessage response, string operation, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var (code, message) = await ErrorOfAsync(response, ct);
        throw new DaprException(operation, response.StatusCode, code, message);
    }

    /// <summary>Dapr's error body: <c>{"errorCode": "...", "message": "..."}</c>.</summary>
    public static async Task<(string? Code, string? Message)> ErrorOfAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            return (body.TryGetProperty("errorCode", out var code) ? code.GetString() : null,
                body.TryGetProperty("message", out var message) ? message.GetString() : null);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            return (null, null);
        }
    }
}

/// <summary>The sidecar answered a call with an error.</summary>
public sealed class DaprException(string operation, HttpStatusCode status, string? errorCode, string? message)
    : Exception($"Dapr {operation} failed: {(int)status} {errorCode} {message}")
{
    public HttpStatusCode Status { get; } = status;
    public string? ErrorCode { get; } = errorCode;
}

using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Licenzy.Sandbox.Account;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StripeNet = global::Stripe;

namespace Licenzy.Sandbox.Webhooks;

/// <summary>How Licenzy's ingest route answered one webhook.</summary>
public sealed record WebhookAnswer(bool Accepted, int? Status, string Summary);

/// <summary>
/// Sends one event to Licenzy's ingest route, <c>POST /v1/webhooks/stripe/{tenant}/test</c>,
/// signed as Stripe signs it, through one long-lived HttpClient. The secret is the one of the
/// webhook endpoint registered for that route through the sandbox's Stripe API (as Stripe signs
/// with the endpoint's own), else the sandbox's fixed one that operators connect with by hand.
/// Never throws for a refusal or an unreachable route: the answer says what happened, for the
/// caller to report.
/// </summary>
public sealed partial class WebhookSender(
    HttpClient http, SandboxAccount account, IOptions<SandboxOptions> options, TimeProvider clock, ILogger<WebhookSender> logger)
{
    public const string HttpClientName = "Licenzy.Sandbox.Webhooks";

    // Enough of a refusal to say why; Licenzy's problem details are far shorter.
    private const int MaxReasonBytes = 4096;
    private const int MaxSummaryLength = 300;

    public static string IngestPath(string tenantId) => $"v1/webhooks/stripe/{Uri.EscapeDataString(tenantId)}/test";

    public async Task<WebhookAnswer> SendAsync(string tenantId, SandboxEvent stripeEvent, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, IngestPath(tenantId)) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(stripeEvent.Body)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        // Signed when sent, not when made, as Stripe signs every delivery attempt afresh; Stripe.net
        // makes the header the way Stripe does.
        request.Headers.TryAddWithoutValidation("Stripe-Signature",
            StripeNet.EventUtility.GenerateSignatureHeader(stripeEvent.Body, SecretFor(tenantId), clock.GetUtcNow().ToUnixTimeSeconds()));

        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                LogAccepted(logger, stripeEvent.Id, stripeEvent.Type, tenantId, status);
                return new WebhookAnswer(true, status, $"{status}");
            }

            var reason = await ReasonAsync(response, ct);
            LogRefused(logger, stripeEvent.Id, stripeEvent.Type, tenantId, status, reason);
            return new WebhookAnswer(false, status, Shorten($"{status} {reason}".TrimEnd()));
        }
        catch (HttpRequestException e)
        {
            LogUnreachable(logger, stripeEvent.Id, stripeEvent.Type, tenantId, e.Message);
            return new WebhookAnswer(false, null, Shorten($"no answer: {e.Message}"));
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            var timeout = options.Value.DeliveryTimeout;
            LogUnreachable(logger, stripeEvent.Id, stripeEvent.Type, tenantId, $"timed out after {timeout}");
            return new WebhookAnswer(false, null, $"no answer within {timeout.TotalSeconds:0.#} s");
        }
    }

    private string SecretFor(string tenantId) =>
        account.Transact(data => data.WebhookSecretFor(tenantId)) ?? options.Value.WebhookSecret;

    /// <summary>Licenzy answers errors as problem details; their <c>code</c> and <c>detail</c> say why.</summary>
    private static async Task<string> ReasonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[MaxReasonBytes];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), ct)) > 0) length += read;
        try
        {
            using var problem = JsonDocument.Parse(buffer.AsMemory(0, length));
            var code = problem.RootElement.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            var detail = problem.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            return string.Join(": ", new[] { code, detail }.Where(part => !string.IsNullOrEmpty(part)));
        }
        catch (JsonException)
        {
            return response.ReasonPhrase ?? "";
        }
    }

    private static string Shorten(string text) => text.Length <= MaxSummaryLength ? text : text[..(MaxSummaryLength - 1)] + "…";

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox delivered Stripe event {EventId} ({EventType}) to tenant {TenantId}: {Status}")]
    private static partial void LogAccepted(ILogger logger, string eventId, string eventType, string tenantId, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Licenzy refused sandbox event {EventId} ({EventType}) for tenant {TenantId}: {Status} {Reason}")]
    private static partial void LogRefused(ILogger logger, string eventId, string eventType, string tenantId, int status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox event {EventId} ({EventType}) for tenant {TenantId} got no answer: {Failure}")]
    private static partial void LogUnreachable(ILogger logger, string eventId, string eventType, string tenantId, string failure);
}

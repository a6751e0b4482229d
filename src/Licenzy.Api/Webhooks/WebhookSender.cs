using System.Net.Sockets;
using System.Text;
using Polly.Timeout;

namespace Licenzy.Api.Webhooks;

/// <summary>
/// Sends one attempt of a delivery: the message as its JSON body, signed for this attempt's
/// timestamp with every secret the endpoint signs with, through the one webhook HttpClient.
/// </summary>
public sealed partial class WebhookSender(IHttpClientFactory clients, MessageBodies bodies, TimeProvider clock, ILogger<WebhookSender> log)
{
    public const string HttpClientName = "licenzy-webhooks";

    public async Task<AttemptOutcome> SendAsync(WebhookDelivery delivery, WebhookEndpoint endpoint, IReadOnlyList<string> secrets,
        CancellationToken ct)
    {
        var body = bodies.ToJson(delivery.Message);
        var timestamp = clock.GetUtcNow();
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url)
        {
            Content = new StringContent(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), "application/json"),
        };
        request.Headers.TryAddWithoutValidation(WebhookSignature.IdHeader, delivery.Message.Id);
        request.Headers.TryAddWithoutValidation(WebhookSignature.TimestampHeader, timestamp.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation(WebhookSignature.SignatureHeader, WebhookSignature.Sign(delivery.Message.Id, timestamp, body, secrets));

        AttemptOutcome outcome;
        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var code = (int)response.StatusCode;
            outcome = response.IsSuccessStatusCode ? new AttemptOutcome(true, code, null)
                : code is >= 300 and < 400 ? new AttemptOutcome(false, code,
                    $"answered {code} (redirect to '{response.Headers.Location}', not followed: a webhook endpoint must answer itself)")
                : new AttemptOutcome(false, code, $"answered {code}");
        }
        catch (TimeoutRejectedException)
        {
            outcome = new AttemptOutcome(false, null, $"no answer within {WebhookOptions.AttemptTimeout.TotalSeconds:0} seconds");
        }
        catch (HttpRequestException e)
        {
            outcome = new AttemptOutcome(false, null, Describe(e));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            outcome = new AttemptOutcome(false, null, "the request was canceled");
        }
        LogAttempt(log, delivery.Id, delivery.TenantId, delivery.Message.Type, outcome.Delivered, outcome.StatusCode, outcome.Error);
        return outcome;
    }

    /// <summary>What went wrong, without the body or secrets: the refusal of a private address, or the socket error.</summary>
    private static string Describe(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is WebhookAddressRefusedException refused) return "refused to connect: " + refused.Message;
            if (inner is SocketException socket) return $"could not connect: {socket.SocketErrorCode}";
        }
        return "request failed: " + e.Message;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Webhook delivery {DeliveryId} of tenant {TenantId} ({Type}): delivered {Delivered}, status {StatusCode}, error {Error}")]
    private static partial void LogAttempt(ILogger logger, string deliveryId, string tenantId, string type, bool delivered, int? statusCode,
        string? error);
}

using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Timeout;

namespace Licenzy.Stripe;

/// <summary>Stripe's HTTP API, form-encoded requests and JSON answers, through one resilience pipeline.</summary>
public sealed partial class StripeClient(
    HttpClient http, ResiliencePipeline<HttpResponseMessage> pipeline, ILogger<StripeClient> logger) : IStripeClient
{
    public const string HttpClientName = "Licenzy.Stripe";
    public const string ResiliencePipelineKey = "Licenzy.Stripe";

    // Stripe's documented limit for an Idempotency-Key.
    private const int MaxIdempotencyKeyLength = 255;

    public async Task<StripeBalance> GetBalanceAsync(string secretKey, CancellationToken ct)
    {
        var call = new StripeCall(HttpMethod.Get, "v1/balance", "GET /v1/balance");
        using var answer = await SendAsync(call, secretKey, ct);
        return StripeBalance.FromJson(answer.RootElement);
    }

    public async Task<StripePrice> GetPriceAsync(string secretKey, string priceId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(priceId);
        if (priceId is "." or "..")
        {
            // Escaping leaves dot segments alone, and they would change the path.
            throw new ArgumentException("Not a Stripe price id.", nameof(priceId));
        }

        var call = new StripeCall(HttpMethod.Get, $"v1/prices/{Uri.EscapeDataString(priceId)}", "GET /v1/prices/{id}");
        using var answer = await SendAsync(call, secretKey, ct);
        return StripePrice.FromJson(answer.RootElement);
    }

    public async Task<StripeCheckoutSession> CreateCheckoutSessionAsync(
        string secretKey, CheckoutSessionCreate request, string idempotencyKey, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.PriceId);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.Quantity, 1);
        // The key is what makes retrying this POST safe: without one it must not be sent at all.
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(idempotencyKey.Length, MaxIdempotencyKeyLength);

        var call = new StripeCall(HttpMethod.Post, "v1/checkout/sessions", "POST /v1/checkout/sessions")
        {
            Form = CheckoutForm.Encode(request),
            IdempotencyKey = idempotencyKey,
        };
        using var answer = await SendAsync(call, secretKey, ct);
        return StripeCheckoutSession.FromJson(answer.RootElement);
    }

    private async Task<JsonDocument> SendAsync(StripeCall call, string secretKey, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(secretKey);

        var context = ResilienceContextPool.Shared.Get(call.Operation, ct);
        context.Properties.Set(StripeResilience.SafeToRepeat, call.IsSafeToRepeat);
        HttpResponseMessage response;
        try
        {
            response = await pipeline.ExecuteAsync(
                static async (attempt, state) =>
                {
                    // A request message can be sent only once, so every attempt builds its own.
                    using var message = state.Call.ToRequest(state.SecretKey);
                    return await state.Http.SendAsync(message, attempt.CancellationToken);
                },
                context,
                (Http: http, Call: call, SecretKey: secretKey));
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException)
        {
            LogUnavailable(logger, call.Operation, e.GetType().Name);
            throw new StripeUnavailableException(call.Operation, e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        using (response)
        {
            // SendAsync buffered the body inside the attempt, so this read is not a new wait on the network.
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw ToApiException(call, response, body);
            }

            try
            {
                return JsonDocument.Parse(body);
            }
            catch (JsonException)
            {
                throw new StripePayloadException($"Stripe answered {call.Operation} with a body that is not JSON");
            }
        }
    }

    private StripeApiException ToApiException(StripeCall call, HttpResponseMessage response, byte[] body)
    {
        var status = (int)response.StatusCode;
        var requestId = response.Headers.TryGetValues("Request-Id", out var ids) ? ids.FirstOrDefault() : null;
        var error = ReadErrorEnvelope(body);
        LogError(logger, call.Operation, status, error?.ReadString("type"), error?.ReadString("code"), requestId);
        return new StripeApiException(
            status,
            error?.ReadString("type"),
            error?.ReadString("code"),
            error?.ReadString("message") ?? $"Stripe answered {call.Operation} with HTTP {status}",
            error?.ReadString("param"),
            requestId);
    }

    /// <summary>The <c>error</c> member of <c>{"error":{"type","code","message","param"}}</c>, if the body has one.</summary>
    private static JsonElement? ReadErrorEnvelope(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ReadObject("error")?.Clone();
        }
        catch (JsonException)
        {
            return null; // A proxy's HTML error page, say; the status alone has to do.
        }
    }

    private sealed record StripeCall(HttpMethod Method, string Path, string Operation)
    {
        public IReadOnlyList<KeyValuePair<string, string>>? Form { get; init; }
        public string? IdempotencyKey { get; init; }

        public bool IsSafeToRepeat => Method == HttpMethod.Get || !string.IsNullOrEmpty(IdempotencyKey);

        public HttpRequestMessage ToRequest(string secretKey)
        {
            var message = new HttpRequestMessage(Method, Path);
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secretKey);
            if (IdempotencyKey is not null)
            {
                message.Headers.Add("Idempotency-Key", IdempotencyKey);
            }

            if (Form is not null)
            {
                message.Content = new FormUrlEncodedContent(Form);
            }

            return message;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stripe {Operation} got no answer: {Failure}")]
    private static partial void LogUnavailable(ILogger logger, string operation, string failure);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Stripe {Operation} answered {Status} {ErrorType} {ErrorCode} (request {RequestId})")]
    private static partial void LogError(
        ILogger logger, string operation, int status, string? errorType, string? errorCode, string? requestId);
}

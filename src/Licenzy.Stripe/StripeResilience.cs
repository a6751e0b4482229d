using System.Net;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Licenzy.Stripe;

/// <summary>
/// The retry and per-attempt timeout every Stripe call runs through. Retries follow Stripe's
/// guidance: transient statuses and network failures, unless Stripe says otherwise in
/// <c>Stripe-Should-Retry</c>, and only for requests that are safe to repeat.
/// </summary>
internal static partial class StripeResilience
{
    /// <summary>Set per call: a GET, or a POST that carries an Idempotency-Key.</summary>
    public static readonly ResiliencePropertyKey<bool> SafeToRepeat = new("Licenzy.Stripe.SafeToRepeat");

    public const string ShouldRetryHeader = "Stripe-Should-Retry";

    public static ResiliencePipeline<HttpResponseMessage> Build(StripeOptions options, TimeProvider time, ILogger logger)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (options.MaxRetries > 0)
        {
            // Polly disposes each response it retries past, so discarded responses free their connections.
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Context, args.Outcome)),
                OnRetry = args =>
                {
                    LogRetry(logger, args.Context.OperationKey, args.AttemptNumber + 1, Describe(args.Outcome), args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        }

        // Inside the retry, so that each attempt gets its own time budget.
        builder.AddTimeout(options.AttemptTimeout);
        return builder.Build();
    }

    internal static bool ShouldRetry(ResilienceContext context, Outcome<HttpResponseMessage> outcome)
    {
        if (!context.Properties.GetValue(SafeToRepeat, false))
        {
            return false;
        }

        if (outcome.Exception is not null)
        {
            return outcome.Exception is HttpRequestException or TimeoutRejectedException;
        }

        var response = outcome.Result!;
        if (response.IsSuccessStatusCode)
        {
            return false;
        }

        if (response.Headers.TryGetValues(ShouldRetryHeader, out var values)
            && bool.TryParse(values.FirstOrDefault(), out var stripeSays))
        {
            return stripeSays;
        }

        return response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;
    }

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } e ? e.GetType().Name : $"HTTP {(int)outcome.Result!.StatusCode}";

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Stripe {Operation} attempt {Attempt} failed with {Outcome}; retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, string? operation, int attempt, string outcome, TimeSpan delay);
}

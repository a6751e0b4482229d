using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Timeout;

namespace Licenzy.Stripe;

/// <summary>
/// The resilience pipeline on the HttpClient Stripe.net sends through, outermost first: retries
/// (only of requests that are safe to repeat), a circuit breaker, and a timeout per attempt.
/// Stripe.net's own retries are off, so that the two do not multiply.
/// </summary>
internal static partial class StripeHttpResilience
{
    public const string PipelineName = "stripe";

    public const string ShouldRetryHeader = "Stripe-Should-Retry";

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, StripeOptions options, ILogger logger)
    {
        // Timeouts, backoff and breaks run on the wall clock, not on the app's TimeProvider: a test
        // that fakes business time must not also freeze every call to Stripe.
        pipeline.TimeProvider = TimeProvider.System;

        if (options.MaxRetries > 0)
        {
            // Polly disposes each response it retries past, so discarded responses free their connections.
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                // Delays follow Licenzy:Stripe:RetryBaseDelay as documented.
                ShouldRetryAfterHeader = false,
                ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Context.GetRequestMessage(), args.Outcome)),
                OnRetry = args =>
                {
                    // ShouldRetry retries only a request it has seen, so there is one here.
                    LogRetry(logger, Operation(args.Context.GetRequestMessage()!), args.AttemptNumber + 1, Describe(args.Outcome), args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            });
        }

        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(IsStripeUnwell(args.Outcome)),
            OnOpened = args =>
            {
                LogBreak(logger, args.BreakDuration, Describe(args.Outcome));
                return ValueTask.CompletedTask;
            },
        });

        // Inside the retry, so that each attempt gets its own time budget.
        pipeline.AddTimeout(options.AttemptTimeout);
    }

    /// <summary>
    /// Retried: a GET, or a POST that carries an Idempotency-Key (Stripe.net gives every POST one,
    /// Licenzy its own for checkouts), that failed in a way that may pass, unless Stripe says otherwise.
    /// </summary>
    internal static bool ShouldRetry(HttpRequestMessage? request, Outcome<HttpResponseMessage> outcome)
    {
        if (request is null || !IsSafeToRepeat(request)) return false;
        if (outcome.Result is { } response)
        {
            if (response.IsSuccessStatusCode) return false;
            if (response.Headers.TryGetValues(ShouldRetryHeader, out var values) && bool.TryParse(values.FirstOrDefault(), out var stripeSays))
                return stripeSays;
        }

        return HttpClientResiliencePredicates.IsTransient(outcome);
    }

    private static bool IsSafeToRepeat(HttpRequestMessage request) =>
        request.Method == HttpMethod.Get || (request.Method == HttpMethod.Post && request.Headers.Contains("Idempotency-Key"));

    /// <summary>
    /// Only what says Stripe itself is unwell opens the circuit: its 5xx, no connection, no answer
    /// in time. A 429 or a 4xx is one tenant's rate limit or mistake, and must not cut off the others.
    /// </summary>
    internal static bool IsStripeUnwell(Outcome<HttpResponseMessage> outcome) =>
        outcome.Result is { } response
            ? response.StatusCode >= HttpStatusCode.InternalServerError
            : outcome.Exception is HttpRequestException or TimeoutRejectedException;

    private static string Operation(HttpRequestMessage request) => $"{request.Method} {request.RequestUri?.AbsolutePath}";

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } e ? e.GetType().Name : $"HTTP {(int)outcome.Result!.StatusCode}";

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Stripe {Operation} attempt {Attempt} failed with {Outcome}; retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, string operation, int attempt, string outcome, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Calls to Stripe fail too often ({Outcome} the last); none is sent for {BreakDuration}")]
    private static partial void LogBreak(ILogger logger, TimeSpan breakDuration, string outcome);
}

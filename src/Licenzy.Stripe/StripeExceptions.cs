namespace Licenzy.Stripe;

/// <summary>
/// Anything that went wrong talking to Stripe or reading what it sent. Callers that only need
/// "Stripe failed" catch this; <see cref="StripeApiException"/> says what Stripe answered.
/// </summary>
public abstract class StripeException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Stripe answered with an error status and, usually, its error envelope.</summary>
public sealed class StripeApiException(
    int httpStatus, string? errorType, string? errorCode, string message, string? param, string? requestId)
    : StripeException(message)
{
    public int HttpStatus { get; } = httpStatus;

    /// <summary>Stripe's <c>error.type</c>, e.g. <c>invalid_request_error</c>, <c>api_error</c>.</summary>
    public string? ErrorType { get; } = errorType;

    /// <summary>Stripe's <c>error.code</c>, e.g. <c>resource_missing</c>.</summary>
    public string? ErrorCode { get; } = errorCode;

    /// <summary>The request parameter Stripe blamed, when it named one.</summary>
    public string? Param { get; } = param;

    /// <summary>Stripe's <c>Request-Id</c>, for matching a failure with Stripe's dashboard logs.</summary>
    public string? RequestId { get; } = requestId;

    /// <summary>Stripe rejected the secret key.</summary>
    public bool IsAuthenticationError => HttpStatus == 401;

    /// <summary>The key is valid but may not do this (a restricted key without the permission).</summary>
    public bool IsPermissionError => HttpStatus == 403;

    /// <summary>The idempotency key was first used with other parameters.</summary>
    public bool IsIdempotencyMismatch => HttpStatus == 400 && ErrorType == "idempotency_error";

    /// <summary>The requested object does not exist for this key.</summary>
    public bool IsNotFound => HttpStatus == 404;
}

/// <summary>Stripe could not be reached or did not answer in time, after all retries.</summary>
public sealed class StripeUnavailableException(string operation, Exception inner)
    : StripeException($"Stripe did not answer {operation}: {inner.GetType().Name}", inner)
{
    public string Operation { get; } = operation;
}

/// <summary>A Stripe body (webhook event or API response) that Licenzy cannot read.</summary>
public sealed class StripePayloadException(string reason)
    : StripeException($"Unreadable Stripe payload: {reason}")
{
    /// <summary>A short reason; never the payload itself.</summary>
    public string Reason { get; } = reason;
}

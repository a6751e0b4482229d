using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Licenzy.Infrastructure.Http;

/// <summary>
/// A failure told to the caller: the one way errors become RFC 9457 problem details, with the
/// stable <c>code</c> member that API.md fixes and any extra members (e.g. usage_remaining).
/// </summary>
public sealed record ApiError(int Status, string Code, string Title, string Detail, IReadOnlyDictionary<string, object?>? Extensions = null)
{
    public const string TypeBase = "https://licenzy.dev/errors/";

    public ProblemHttpResult ToResult() => TypedResults.Problem(ToProblemDetails());

    /// <summary>The problem document, for responses that are stored and replayed rather than written at once.</summary>
    public string ToJson() => JsonSerializer.Serialize(ToProblemDetails(), ProblemJson);

    private static readonly JsonSerializerOptions ProblemJson = new(JsonSerializerDefaults.Web);

    private ProblemDetails ToProblemDetails()
    {
        var problem = new ProblemDetails { Type = TypeBase + Code, Title = Title, Status = Status, Detail = Detail };
        problem.Extensions["code"] = Code;
        if (Extensions is not null)
        {
            foreach (var (key, value) in Extensions) problem.Extensions[key] = value;
        }
        return problem;
    }

    public static ApiError InvalidRequest(string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        new(400, "invalid_request", "The request is not valid", detail,
            errors is null ? null : new Dictionary<string, object?> { ["errors"] = errors });

    public static ApiError UnsupportedMediaType(string detail) =>
        new(415, "unsupported_media_type", "The body must be JSON", detail);

    public static ApiError RequestTooLarge(int limit) =>
        new(413, "request_too_large", "The request body is too large", $"The body must be at most {limit} bytes.");

    public static ApiError ModeNotAllowed() =>
        new(400, "mode_not_allowed", "Mode comes from the key",
            "Do not send mode: the API key alone selects tenant and mode (lz_test_... or lz_live_...).");

    public static ApiError InvalidSubjectRef() =>
        new(400, "invalid_subject_ref", "Invalid subject_ref",
            "subject_ref must be 1 to 256 characters from A-Z a-z 0-9 _ - . : @ |.");

    public static ApiError InvalidApiKey() =>
        new(401, "invalid_api_key", "Invalid API key", "Send a valid runtime API key as 'Authorization: Bearer lz_test_...' or 'lz_live_...'.");

    public static ApiError InvalidAdminToken() =>
        new(401, "invalid_admin_token", "Invalid admin token", "Send the admin token as 'Authorization: Bearer <token>'.");

    public static ApiError AdminTokenNotConfigured() =>
        new(503, "admin_token_not_configured", "The setup API is disabled",
            "Set Licenzy:AdminToken (environment Licenzy__AdminToken) to enable the setup API.");

    public static ApiError IdempotencyKeyRequired() =>
        new(400, "idempotency_key_required", "Idempotency-Key header required",
            "Send an Idempotency-Key header (1 to 255 printable characters) so that a retry cannot spend twice.");

    public static ApiError InvalidIdempotencyKey() =>
        new(400, "invalid_idempotency_key", "Invalid Idempotency-Key", "An Idempotency-Key must be 1 to 255 printable ASCII characters.");

    public static ApiError IdempotencyKeyReused() =>
        new(409, "idempotency_key_reused", "Idempotency-Key reused",
            "This Idempotency-Key was already used with a different request body. Use a new key for a new request.");

    public static ApiError StripeNotConnected(string mode) =>
        new(503, "stripe_not_connected", "Stripe is not connected", $"No Stripe account is connected for {mode} mode of this tenant.");

    public static ApiError StripeError(string detail) =>
        new(502, "stripe_error", "Stripe did not accept the request", detail);

    public static ApiError UnknownTenant(string tenantId) =>
        new(404, "unknown_tenant", "Unknown tenant", $"There is no tenant '{tenantId}'.");

    public static ApiError InvalidMode() =>
        new(400, "invalid_mode", "Invalid mode", "The mode in the path must be 'test' or 'live'.");

    public static ApiError NotFound(string detail) => new(404, "not_found", "Not found", detail);

    public static ApiError MethodNotAllowed() => new(405, "method_not_allowed", "Method not allowed", "This route does not take that HTTP method.");

    public static ApiError Internal() =>
        new(500, "internal_error", "Something went wrong", "The request failed on our side and changed nothing that was not completed. Retry it.");

    /// <summary>The problem for a bare status the framework produced (unknown route, wrong method).</summary>
    public static ApiError ForStatus(int status) => status switch
    {
        404 => NotFound("There is no such route. See the API reference for the routes Licenzy serves."),
        405 => MethodNotAllowed(),
        415 => UnsupportedMediaType("Send the body as 'Content-Type: application/json'."),
        413 => RequestTooLarge(0) with { Detail = "The request body is too large." },
        _ => new(status, "http_" + status, "Request failed", $"The request failed with status {status}."),
    };
}

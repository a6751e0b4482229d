using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Licenzy.Sandbox.StripeApi;

/// <summary>Stripe's error answer: <c>{"error":{"type","code","message","param"}}</c> with an HTTP status.</summary>
public sealed record StripeError(int Status, string Type, string Message, string? Code = null, string? Param = null)
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Idempotency = "idempotency_error";

    public static StripeError Missing(string param) =>
        new(400, InvalidRequest, $"Missing required param: {param}.", "parameter_missing", param);

    public static StripeError Invalid(string param, string message) =>
        new(400, InvalidRequest, message, "parameter_invalid_string", param);

    /// <summary>404 when the price is the resource asked for; 400 when a request merely names it.</summary>
    public static StripeError NoSuchPrice(string id, string param, int status) =>
        new(status, InvalidRequest, $"No such price: '{id}'", "resource_missing", param);

    public string ToJson() => new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["code"] = Code,
            ["doc_url"] = Code is null ? null : $"https://stripe.com/docs/error-codes/{Code.Replace('_', '-')}",
            ["message"] = Message,
            ["param"] = Param,
            ["type"] = Type,
        },
    }.ToJsonString();

    public IResult ToResult() => StripeAnswer.Json(Status, ToJson());
}

/// <summary>How the sandbox's Stripe API writes an answer.</summary>
public static class StripeAnswer
{
    public static IResult Json(int status, string json) => Results.Content(json, "application/json", System.Text.Encoding.UTF8, status);

    public static IResult Json(JsonNode body) => Json(200, body.ToJsonString());
}

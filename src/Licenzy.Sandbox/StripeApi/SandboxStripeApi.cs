using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Licenzy.Sandbox.Account;
using Licenzy.Sandbox.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Licenzy.Sandbox.StripeApi;

/// <summary>
/// The part of Stripe's API that Licenzy calls, served by the app itself under
/// <c>/sandbox/stripe</c>, so that Licenzy's real Stripe client runs against it unchanged.
/// </summary>
public static class SandboxStripeApi
{
    public const string Prefix = "/stripe";

    /// <summary>Stripe keeps idempotency keys for at least a day.</summary>
    public static readonly TimeSpan IdempotencyWindow = TimeSpan.FromHours(24);

    /// <summary>An unpaid Checkout Session expires after a day, as Stripe's do by default.</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(24);

    private const int MaxIdempotencyKeyLength = 255;

    public static RouteGroupBuilder MapSandboxStripeApi(this RouteGroupBuilder sandbox)
    {
        var stripe = sandbox.MapGroup(Prefix);
        stripe.AddEndpointFilter(StampRequestId);
        stripe.AddEndpointFilter(TestModeKeys.Require);
        stripe.MapGet("/v1/balance", Balance);
        stripe.MapGet("/v1/prices/{id}", GetPrice);
        stripe.MapPost("/v1/checkout/sessions", CreateCheckoutSessionAsync);
        stripe.MapGet("/v1/checkout/sessions/{id}", GetCheckoutSession);
        stripe.MapWebhookEndpoints();
        stripe.Map("/{**path}", Unrecognized);
        return sandbox;
    }

    private static ValueTask<object?> StampRequestId(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        http.Response.Headers["Request-Id"] = StripeIds.New("req");
        // Stripe answers in the version a request asks for (Stripe.net always asks for the one it
        // pins), else in the account's own, which is the sandbox's setting.
        http.Response.Headers["Stripe-Version"] = StripeApiVersion.TryParse(http.Request.Headers["Stripe-Version"].ToString(), out var asked)
            ? asked.Name
            : http.RequestServices.GetRequiredService<IOptions<SandboxOptions>>().Value.ApiVersion;
        return next(context);
    }

    private static IResult Balance() => StripeAnswer.Json(new JsonObject
    {
        ["object"] = "balance",
        ["available"] = new JsonArray(new JsonObject { ["amount"] = 0, ["currency"] = "usd", ["source_types"] = new JsonObject { ["card"] = 0 } }),
        ["livemode"] = false,
        ["pending"] = new JsonArray(new JsonObject { ["amount"] = 0, ["currency"] = "usd", ["source_types"] = new JsonObject { ["card"] = 0 } }),
    });

    private static IResult GetPrice(string id, SandboxAccount account)
    {
        var price = account.Transact(data => data.Prices.GetValueOrDefault(id));
        return price is null
            ? StripeError.NoSuchPrice(id, "id", 404).ToResult()
            : StripeAnswer.Json(StripeObjectJson.Price(price));
    }

    private static IResult Unrecognized(HttpRequest request, string? path) =>
        new StripeError(404, StripeError.InvalidRequest,
            $"Unrecognized request URL ({request.Method}: /{path}). "
            + "The Licenzy sandbox serves GET /v1/balance, GET /v1/prices/{id}, POST /v1/checkout/sessions, GET /v1/checkout/sessions/{id}, "
            + "POST and GET /v1/webhook_endpoints, and GET and DELETE /v1/webhook_endpoints/{id}.").ToResult();

    /// <summary>What a success page fetches to show the buyer what they bought, as it stands now.</summary>
    private static IResult GetCheckoutSession(string id, SandboxAccount account, TimeProvider clock)
    {
        var session = account.Transact(data => data.Sessions.GetValueOrDefault(id));
        return session is null
            ? new StripeError(404, StripeError.InvalidRequest, $"No such checkout.session: '{id}'", "resource_missing", "session").ToResult()
            : StripeAnswer.Json(StripeObjectJson.CheckoutSession(session, clock.GetUtcNow()));
    }

    private static async Task<IResult> CreateCheckoutSessionAsync(
        HttpContext http, SandboxAccount account, IOptions<SandboxOptions> options, TimeProvider clock)
    {
        if (!http.Request.HasFormContentType)
        {
            return new StripeError(400, StripeError.InvalidRequest,
                "Invalid request: send the parameters form-encoded (application/x-www-form-urlencoded), as Stripe's API takes them.").ToResult();
        }

        var received = await http.Request.ReadFormAsync(http.RequestAborted);
        // A repeated parameter counts once, with its last value.
        var form = received.ToDictionary(field => field.Key, field => field.Value[^1] ?? "", StringComparer.Ordinal);
        var idempotencyKey = http.Request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length > MaxIdempotencyKeyLength)
        {
            return new StripeError(400, StripeError.Idempotency,
                $"Idempotency keys can be at most {MaxIdempotencyKeyLength} characters long.").ToResult();
        }

        var caller = TestModeKeys.CallerOf(http);
        var fingerprint = Fingerprint(form);
        var origin = options.Value.Origin;
        return account.Transact(data =>
        {
            var now = clock.GetUtcNow();
            if (idempotencyKey.Length > 0 && data.IdempotentAnswers.TryGetValue((caller, idempotencyKey), out var first))
            {
                if (now - first.At >= IdempotencyWindow)
                {
                    data.IdempotentAnswers.Remove((caller, idempotencyKey));
                }
                else if (first.RequestFingerprint != fingerprint)
                {
                    return new StripeError(400, StripeError.Idempotency,
                        $"Keys for idempotent requests can only be used with the same parameters they were first used with. "
                        + $"Use a new key (not '{idempotencyKey}') for a different request.").ToResult();
                }
                else
                {
                    http.Response.Headers["Idempotent-Replayed"] = "true";
                    http.Response.Headers["Idempotency-Key"] = idempotencyKey;
                    return StripeAnswer.Json(first.Status, first.Body);
                }
            }

            // Like Stripe, a request that fails validation is not remembered under its key.
            var (request, error) = CheckoutSessionForm.Read(form, data.Prices);
            if (error is not null) return error.ToResult();

            var id = StripeIds.New("cs_test");
            var session = new SandboxCheckoutSession
            {
                Id = id, Request = request!,
                Url = $"{origin}/sandbox/checkout/{id}", Created = now, ExpiresAt = now + SessionLifetime,
            };
            data.Sessions[id] = session;
            var body = StripeObjectJson.CheckoutSession(session, now).ToJsonString();
            if (idempotencyKey.Length > 0)
            {
                data.IdempotentAnswers[(caller, idempotencyKey)] = new IdempotentAnswer(fingerprint, 200, body, now);
                http.Response.Headers["Idempotency-Key"] = idempotencyKey;
            }

            return StripeAnswer.Json(200, body);
        });
    }

    /// <summary>The same parameters in any order give the same fingerprint.</summary>
    private static string Fingerprint(IReadOnlyDictionary<string, string> form)
    {
        var canonical = new StringBuilder();
        foreach (var (name, value) in form.OrderBy(field => field.Key, StringComparer.Ordinal))
        {
            canonical.Append(name.Length).Append(':').Append(name).Append('=').Append(value.Length).Append(':').Append(value).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
    }
}

using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Licenzy.Sandbox.StripeApi;

/// <summary>
/// The sandbox's API keys: any <c>sk_test_</c> or <c>rk_test_</c> key is valid, because there is
/// no account to sign up for; live keys are refused, because nothing here is real money.
/// </summary>
public static class TestModeKeys
{
    private const string CallerItem = "licenzy.sandbox.stripe-caller";

    public static bool IsTestKey(string key) =>
        (key.StartsWith("sk_test_", StringComparison.Ordinal) || key.StartsWith("rk_test_", StringComparison.Ordinal)) && key.Length > "sk_test_".Length;

    public static bool IsLiveKey(string key) =>
        key.StartsWith("sk_live_", StringComparison.Ordinal) || key.StartsWith("rk_live_", StringComparison.Ordinal);

    /// <summary>Every route of the sandbox's Stripe API takes a test key, as Stripe takes one: Bearer, or Basic with the key as user name.</summary>
    public static async ValueTask<object?> Require(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var key = KeyOf(http.Request);
        if (key is null)
        {
            return Unauthorized("You did not provide an API key. Send it as 'Authorization: Bearer sk_test_...'.");
        }

        if (IsLiveKey(key))
        {
            return Unauthorized("The Licenzy sandbox is test-mode only: it does not take live keys. Use any sk_test_ or rk_test_ key.");
        }

        if (!IsTestKey(key))
        {
            return Unauthorized($"Invalid API Key provided: {Mask(key)}. The Licenzy sandbox takes any sk_test_ or rk_test_ key.");
        }

        // Idempotency keys are scoped per caller, as Stripe scopes them per account; the key
        // itself is not kept.
        http.Items[CallerItem] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        return await next(context);
    }

    /// <summary>Who called, as a digest of the key; set by <see cref="Require"/>.</summary>
    public static string CallerOf(HttpContext http) =>
        http.Items[CallerItem] as string ?? throw new InvalidOperationException("The sandbox's Stripe routes must run behind TestModeKeys.Require.");

    private static IResult Unauthorized(string message) => new StripeError(401, StripeError.InvalidRequest, message).ToResult();

    private static string? KeyOf(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var key = header["Bearer ".Length..].Trim();
            return key.Length == 0 ? null : key;
        }

        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                var user = decoded.Split(':', 2)[0];
                return user.Length == 0 ? null : user;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    // Like Stripe, show only enough of a rejected key to recognise it.
    private static string Mask(string key) => key.Length > 12 ? $"{key[..8]}{new string('*', 4)}{key[^4..]}" : new string('*', key.Length);
}

using Licenzy.Api.Setup;
using Licenzy.Domain;
using Microsoft.Extensions.Options;

namespace Licenzy.Api.Http;

/// <summary>Who is calling the runtime API: the tenant and mode its key selects.</summary>
public sealed record RuntimeCaller(string TenantId, Mode Mode, string KeyId);

public static class Callers
{
    private const string ItemKey = "licenzy.runtime-caller";

    /// <summary>
    /// The caller that <see cref="RequireRuntimeKey"/> authenticated. (Filters run after parameter
    /// binding, so handlers ask for it here rather than binding it.)
    /// </summary>
    public static RuntimeCaller Caller(this HttpContext context) =>
        context.Items[ItemKey] as RuntimeCaller
        ?? throw new InvalidOperationException("Runtime routes must be in a group that calls RequireRuntimeKey().");

    /// <summary>
    /// Runtime routes take a runtime key and nothing else. Missing, malformed, revoked and
    /// unknown keys all get the same answer, so a caller cannot probe which it was.
    /// </summary>
    public static RouteGroupBuilder RequireRuntimeKey(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var keys = http.RequestServices.GetRequiredService<ApiKeys>();
            var record = await keys.ResolveAsync(BearerTokens.SpanFrom(http.Request), http.RequestAborted);
            if (record is null) return ApiError.InvalidApiKey().ToResult();
            var caller = new RuntimeCaller(record.TenantId, record.Mode, record.Id);
            http.Items[ItemKey] = caller;
            var result = await next(context);
            // A request refused for what it sent changes nothing, its key's last use included.
            if (!IsRefusal(result))
                await http.RequestServices.GetRequiredService<ApiKeyUses>().RecordAsync(caller, http.RequestAborted);
            return result;
        });
        return group;
    }

    /// <summary>A 4xx answer: the request was refused for what it sent.</summary>
    private static bool IsRefusal(object? result)
    {
        while (result is INestedHttpResult nested) result = nested.Result;
        return result is IStatusCodeHttpResult { StatusCode: >= 400 and < 500 };
    }

    /// <summary>Setup routes take the configured admin token and nothing else.</summary>
    public static RouteGroupBuilder RequireAdminToken(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var configured = http.RequestServices.GetRequiredService<IOptionsMonitor<ApiOptions>>().CurrentValue.AdminToken;
            if (string.IsNullOrEmpty(configured)) return ApiError.AdminTokenNotConfigured().ToResult();
            var sent = BearerTokens.From(http.Request);
            if (sent is null || !BearerTokens.SameSecret(sent, configured))
                return ApiError.InvalidAdminToken().ToResult();
            return await next(context);
        });
        return group;
    }
}

using Licenzy.Infrastructure.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Sandbox.Admin;

/// <summary>
/// The sandbox's operator routes take the same admin token as the setup API
/// (<c>Licenzy:AdminToken</c>), checked the same way, with the same answers.
/// </summary>
public static class AdminToken
{
    public const string Key = "Licenzy:AdminToken";

    public static RouteGroupBuilder RequireAdminToken(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            // Read per request: the standalone app may set it after the sandbox was composed.
            var configured = http.RequestServices.GetRequiredService<IConfiguration>()[Key];
            if (string.IsNullOrEmpty(configured)) return ApiError.AdminTokenNotConfigured().ToResult();
            var sent = BearerTokens.From(http.Request);
            return sent is not null && BearerTokens.SameSecret(sent, configured) ? await next(context) : ApiError.InvalidAdminToken().ToResult();
        });
        return group;
    }
}

using System.Security.Claims;
using Licenzy.Portal.Components;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Licenzy.Portal;

/// <summary>The operator portal as two calls, made by the Api app (and so by the standalone app).</summary>
public static class PortalApp
{
    public const string PathBase = "/portal";
    public const string CookieScheme = "LicenzyPortal";
    public const string HttpClientName = "Licenzy.Portal";

    /// <summary>The claim of the session that holds the admin token the portal calls the setup API with.</summary>
    public const string TokenClaim = "licenzy_admin_token";

    public static WebApplicationBuilder AddLicenzyPortal(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<PortalOptions>().Bind(builder.Configuration.GetSection(PortalOptions.Section));
        if (!IsEnabled(builder.Configuration)) return builder;

        // Secure outside Development: a session cookie must not travel over plain HTTP in production.
        var secure = builder.Environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        services.AddRazorComponents();
        services.AddHttpContextAccessor();
        // No default scheme: ASP.NET Core runs the authentication middleware for every request of
        // the app, and with a default it would look for the portal's cookie on each runtime API
        // call too. The portal's pages name their scheme instead.
        services.AddAuthentication().AddCookie(CookieScheme, options =>
        {
            options.Cookie.Name = "licenzy_portal";
            options.Cookie.Path = PathBase;
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = secure;
            options.LoginPath = PathBase + "/sign-in";
            options.AccessDeniedPath = PathBase + "/sign-in";
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            options.SlidingExpiration = true;
        });
        services.AddAuthorization();
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "licenzy_portal_antiforgery";
            options.Cookie.Path = PathBase;
            options.Cookie.SameSite = SameSiteMode.Strict;
            // As the request came: antiforgery refuses to work at all over plain HTTP with an
            // "always secure" cookie, and behind a proxy that ends TLS the app sees plain HTTP
            // unless forwarded headers are on (docs/deploy.md). The token alone proves nothing
            // without the session cookie, which is always Secure outside Development.
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddHttpClient(HttpClientName);
        services.AddScoped<SetupClient>();
        return builder;
    }

    public static WebApplication MapLicenzyPortal(this WebApplication app)
    {
        if (!IsEnabled(app.Configuration)) return app;
        app.UseWhen(context => context.Request.Path.StartsWithSegments(PathBase), portal =>
        {
            portal.UseAuthentication();
            portal.UseAuthorization();
            portal.UseAntiforgery();
        });
        app.MapRazorComponents<PortalRoot>();
        return app;
    }

    private static bool IsEnabled(IConfiguration configuration) =>
        !string.Equals(configuration[PortalOptions.Section + ":Enabled"], "false", StringComparison.OrdinalIgnoreCase);

    internal static ClaimsPrincipal Session(string adminToken) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator"), new Claim(TokenClaim, adminToken)], CookieScheme));
}

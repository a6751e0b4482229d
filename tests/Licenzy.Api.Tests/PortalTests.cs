using System.Net;
using System.Text.RegularExpressions;
using Licenzy.Portal;
using Licenzy.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Licenzy.Api.Tests;

/// <summary>The app with the portal's calls to the setup API going to the in-memory server itself.</summary>
public sealed class PortalApp : LicenzyApp
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
            services.AddHttpClient(Licenzy.Portal.PortalApp.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => Server.CreateHandler()));
    }

    /// <summary>A browser-like client: keeps cookies, does not follow redirects, over HTTPS (the session cookie is Secure outside Development).</summary>
    public HttpClient Browser() => CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false, HandleCookies = true, BaseAddress = new Uri("https://localhost"),
    });
}

/// <summary>
/// The portal's refusals and session over HTTP: what a browser sends, form fields and all. The
/// whole setup in a real browser is PortalBrowserTests (Licenzy.Sandbox.Tests).
/// </summary>
public sealed partial class PortalTests(PortalApp app) : IClassFixture<PortalApp>
{
    [Theory]
    [InlineData("/portal")]
    [InlineData("/portal/tenants/ten_x/test")]
    [InlineData("/portal/tenants/ten_x/test/subject?ref=user_1")]
    public async Task Without_a_session_every_page_sends_the_browser_to_sign_in(string page)
    {
        using var browser = app.Browser();
        var response = await browser.GetAsync(page);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/portal/sign-in", response.Headers.Location!.AbsolutePath);
        Assert.Contains("ReturnUrl=" + Uri.EscapeDataString(page.Split('?')[0]), response.Headers.Location.Query);
    }

    [Fact]
    public async Task A_wrong_token_is_refused_and_starts_no_session()
    {
        using var browser = app.Browser();
        var page = await SignInAsync(browser, "not-the-admin-token");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("That is not the admin token.", await page.Content.ReadAsStringAsync());
        Assert.False(page.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("licenzy_portal=", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/portal")).StatusCode);
    }

    [Fact]
    public async Task The_admin_token_starts_a_session_in_a_strict_http_only_secure_cookie_and_sign_out_ends_it()
    {
        using var browser = app.Browser();
        var signedIn = await SignInAsync(browser, LicenzyApp.AdminToken);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/portal", signedIn.Headers.Location!.AbsolutePath);
        var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("licenzy_portal=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/portal", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(LicenzyApp.AdminToken, cookie);

        var tenants = await browser.GetAsync("/portal");
        Assert.Equal(HttpStatusCode.OK, tenants.StatusCode);
        var html = await tenants.Content.ReadAsStringAsync();
        Assert.Contains("<h1 tabindex=\"-1\">Tenants</h1>", html);

        var signedOut = await browser.PostAsync("/portal/sign-out", Form(html, "sign-out"));
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/portal")).StatusCode);
    }

    [Fact]
    public async Task A_form_without_its_antiforgery_token_is_refused_and_changes_nothing()
    {
        using var browser = app.Browser();
        await SignInAsync(browser, LicenzyApp.AdminToken);
        var before = await StoredState.SnapshotAsync(app);

        var forged = await browser.PostAsync("/portal", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "create-tenant", ["NewTenant.Name"] = "Forged",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        StoredState.AssertNothingWritten(before, await StoredState.SnapshotAsync(app));
    }

    [Fact]
    public async Task A_tenant_made_in_the_portal_is_the_setup_APIs_and_its_refusals_are_shown_in_the_APIs_words()
    {
        using var browser = app.Browser();
        await SignInAsync(browser, LicenzyApp.AdminToken);
        var page = await (await browser.GetAsync("/portal")).Content.ReadAsStringAsync();

        var created = await browser.PostAsync("/portal", Form(page, "create-tenant", ("NewTenant.Name", "Portal tenant")));
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var tenantPage = created.Headers.Location!.OriginalString;
        var tenantId = TenantOf().Match(tenantPage).Groups[1].Value;
        var listed = await app.AdminClient().GetStringAsync("/v1/admin/tenants");
        Assert.Contains($"\"tenant_id\":\"{tenantId}\"", listed);

        // A product whose price the API cannot fetch: Stripe is not connected yet.
        var html = await (await browser.GetAsync(tenantPage)).Content.ReadAsStringAsync();
        Assert.Contains("Portal tenant", html);
        var refused = await browser.PostAsync(tenantPage, Form(html, "create-product",
            ("Product.Code", "PRO"), ("Product.Kind", "subscription"), ("Product.StripePriceId", "price_x")));
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("class=\"error\"", await refused.Content.ReadAsStringAsync());
        Assert.Contains("\"products\":[]", await app.AdminClient().GetStringAsync($"/v1/admin/tenants/{tenantId}/modes/test/products"));
    }

    [Fact]
    public async Task A_subject_ref_the_API_would_refuse_is_refused_on_the_subject_page_too()
    {
        using var browser = app.Browser();
        await SignInAsync(browser, LicenzyApp.AdminToken);
        var tenant = await TestTenant.CreateAsync(app);

        var page = await browser.GetAsync($"/portal/tenants/{tenant.TenantId}/test/subject?ref={Uri.EscapeDataString("no spaces allowed")}");
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Contains("Not a valid subject_ref", await page.Content.ReadAsStringAsync());

        var unknownTenant = await browser.GetAsync("/portal/tenants/ten_nobody/test/subject?ref=user_1");
        Assert.Equal(HttpStatusCode.NotFound, unknownTenant.StatusCode);
    }

    [Fact]
    public async Task The_subject_view_shows_entitlements_with_their_reasons_and_the_history()
    {
        using var browser = app.Browser();
        await SignInAsync(browser, LicenzyApp.AdminToken);
        var tenant = await TestTenant.CreateAsync(app);
        await tenant.BuyAsync("user_1", TestTenant.Subscription);

        var page = await browser.GetAsync($"/portal/tenants/{tenant.TenantId}/test/subject?ref=user_1");
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, html);
        Assert.Contains("subscription_active", html);
        Assert.Contains("checkout.session.completed", html);
        // A page number that is not one is the API's to refuse, not a failure of the page.
        var odd = await browser.GetAsync($"/portal/tenants/{tenant.TenantId}/test/subject?ref=user_1&after=abc");
        Assert.True((int)odd.StatusCode < 500, $"{(int)odd.StatusCode}");
    }

    private static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string token)
    {
        var page = await (await browser.GetAsync("/portal/sign-in")).Content.ReadAsStringAsync();
        return await browser.PostAsync("/portal/sign-in", Form(page, "sign-in", ("Form.Token", token)));
    }

    /// <summary>The fields a browser would post for the page's form <paramref name="handler"/>: its antiforgery token and the given values.</summary>
    private static FormUrlEncodedContent Form(string page, string handler, params (string Name, string Value)[] fields)
    {
        var token = AntiforgeryField().Match(page);
        Assert.True(token.Success, "the page has no antiforgery token");
        return new FormUrlEncodedContent(
            new[] { KeyValuePair.Create("_handler", handler), KeyValuePair.Create("__RequestVerificationToken", token.Groups[1].Value) }
                .Concat(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [GeneratedRegex("/portal/tenants/([^/]+)/test")]
    private static partial Regex TenantOf();
}

using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Licenzy.Bench;

public sealed partial class BenchRun
{
    private const int PortalSamples = 300;

    /// <summary>
    /// The operator portal's pages, one after another as an operator opens them, signed in like a
    /// browser (cookie session, antiforgery field): the tenants page, the tenant's lists page and
    /// the subject view of subjects taken across the store (the million's, when that scenario ran
    /// before). Issue 19: p99 within 100 ms with 100,000 subjects in the store.
    /// </summary>
    private async Task PortalAsync()
    {
        var subjects = _settings.MillionSubjects > 0 && _settings.Runs("million")
            ? Enumerable.Range(0, PortalSamples).Select(i => $"m_{(long)i * 7919 % _settings.MillionSubjects:D7}").ToArray()
            : Enumerable.Range(0, PortalSamples).Select(i => Subjects[i * 31 % Subjects.Length]).ToArray();
        var storeSize = _settings.MillionSubjects > 0 && _settings.Runs("million") ? _settings.MillionSubjects : Subjects.Length;
        Step($"portal pages, {PortalSamples} of each, one at a time, {storeSize:N0} subjects in the store");

        // Production: the portal's cookies are Secure, and the runner speaks plain HTTP on loopback,
        // so the cookies are carried by hand as a browser behind TLS would carry them.
        using var browser = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = _licenzy.BaseUrl,
        };
        static string? Cookie(HttpResponseMessage response, string name) =>
            response.Headers.TryGetValues("Set-Cookie", out var cookies)
                ? cookies.FirstOrDefault(c => c.StartsWith(name + "=", StringComparison.Ordinal))?.Split(';')[0]
                : null;
        using var signInPage = await browser.GetAsync("/portal/sign-in");
        var antiforgery = Cookie(signInPage, "licenzy_portal_antiforgery")
            ?? throw new InvalidOperationException("the portal's sign-in page set no antiforgery cookie");
        using var signIn = new HttpRequestMessage(HttpMethod.Post, "/portal/sign-in")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "sign-in",
                ["__RequestVerificationToken"] = AntiforgeryField().Match(await signInPage.Content.ReadAsStringAsync()).Groups[1].Value,
                ["Form.Token"] = _licenzyEnvironment["Licenzy__AdminToken"],
            }),
        };
        signIn.Headers.Add("Cookie", antiforgery);
        using var signedIn = await browser.SendAsync(signIn);
        var session = Cookie(signedIn, "licenzy_portal");
        if (signedIn.StatusCode != HttpStatusCode.Redirect || session is null)
            throw new InvalidOperationException($"portal sign-in answered {(int)signedIn.StatusCode} without a session");
        browser.DefaultRequestHeaders.Add("Cookie", session);

        var modePage = $"/portal/tenants/{_tenant.TenantId}/test";
        var pages = new (string Name, Func<int, string> Path, string Must)[]
        {
            ("tenants", _ => "/portal", "Tenants"),
            ("tenant lists", _ => modePage, BenchProducts.Pack),
            ("subject view", i => $"{modePage}/subject?ref={subjects[i]}", "Entitlements"),
        };
        var figures = new Dictionary<string, object>();
        foreach (var (name, path, must) in pages)
        {
            var latencies = new double[PortalSamples];
            for (var i = 0; i < PortalSamples; i++)
            {
                var start = Stopwatch.GetTimestamp();
                using var response = await browser.GetAsync(path(i));
                var body = await response.Content.ReadAsStringAsync();
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (response.StatusCode != HttpStatusCode.OK || !body.Contains(must, StringComparison.Ordinal))
                    throw new InvalidOperationException($"portal {name} answered {(int)response.StatusCode} without '{must}'");
            }
            Array.Sort(latencies);
            double At(double q) => Math.Round(latencies[(int)Math.Ceiling(q * latencies.Length) - 1], 2);
            figures[name] = new { P50Ms = At(0.5), P99Ms = At(0.99), MaxMs = latencies[^1] };
            _report.Add(new ResultRow($"portal {name}, {storeSize:N0} subjects", "p99, one at a time", At(0.99), "ms", "<= 100 ms", null,
                At(0.99) <= 100, $"p50 {At(0.5)} ms, max {latencies[^1]:0.0} ms over {PortalSamples} pages"));
        }
        _report.Details["portal"] = figures;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}

using System.Net;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Licenzy.Testing;
using Microsoft.AspNetCore.Hosting;

namespace Licenzy.Api.Tests;

/// <summary>
/// The OpenAPI document against the contract: every route of docs/API.md is in it with its
/// method, nothing else is, the error statuses API.md names for a route are documented, and an
/// independent validator (the npm package @apidevtools/swagger-parser) accepts it.
/// </summary>
public sealed partial class OpenApiTests(LicenzyApp app) : IClassFixture<LicenzyApp>
{
    /// <summary>Routes API.md fixes that the code does not serve yet. Empty this as they are built.</summary>
    private static readonly string[] NotYetServed =
    [
    ];

    /// <summary>Stripe's own routes, which API.md names where it says what Licenzy asks Stripe.</summary>
    private static readonly string[] StripesRoutes = ["GET /v1/balance", "POST /v1/webhook_endpoints"];

    private const string ModePrefix = "/v1/admin/tenants/{}/modes/{}";

    private async Task<JsonObject> DocumentAsync()
    {
        var response = await app.ApiClient().GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    private static Dictionary<string, JsonObject> Operations(JsonObject document)
    {
        var operations = new Dictionary<string, JsonObject>();
        foreach (var (path, item) in document["paths"]!.AsObject())
            foreach (var (method, operation) in item!.AsObject())
                operations[$"{method.ToUpperInvariant()} {Normalise(path)}"] = operation!.AsObject();
        return operations;
    }

    [Fact]
    public async Task The_document_is_OpenAPI_3_1_and_has_every_route_of_API_md_and_no_other()
    {
        var document = await DocumentAsync();
        var documented = Operations(document).Keys.ToHashSet();
        var contract = ContractRoutes().Keys.ToHashSet();

        Assert.StartsWith("3.1", document["openapi"]!.GetValue<string>());
        Assert.Empty(contract.Except(documented).Except(NotYetServed));
        Assert.Empty(documented.Except(contract));
        // A route in NotYetServed that is served now must leave that list.
        Assert.Empty(NotYetServed.Intersect(documented));
        Assert.All(NotYetServed, route => Assert.Contains(route, contract));
    }

    [Fact]
    public async Task Each_route_documents_the_error_statuses_API_md_names_for_it_as_problem_json()
    {
        var operations = Operations(await DocumentAsync());
        foreach (var (route, statuses) in ContractRoutes())
        {
            if (!operations.TryGetValue(route, out var operation)) continue;
            var responses = operation["responses"]!.AsObject();
            foreach (var status in statuses)
            {
                Assert.True(responses.ContainsKey(status), $"{route} does not document {status}, which API.md names.");
                Assert.NotNull(responses[status]!["content"]?["application/problem+json"]);
            }
        }
    }

    [Fact]
    public async Task Runtime_and_setup_routes_name_their_bearer_scheme_and_answer_401_in_the_document()
    {
        var document = await DocumentAsync();
        var schemes = document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal("bearer", schemes["runtime_key"]!["scheme"]!.GetValue<string>());
        Assert.Equal("bearer", schemes["admin_token"]!["scheme"]!.GetValue<string>());
        var problem = document["components"]!["schemas"]!["Problem"]!["properties"]!.AsObject();
        Assert.All(["type", "title", "status", "detail", "code"], member => Assert.True(problem.ContainsKey(member), member));

        foreach (var (route, operation) in Operations(document))
        {
            var path = route.Split(' ')[1];
            var scheme = path.StartsWith("/v1/admin/", StringComparison.Ordinal) ? "admin_token"
                : path.StartsWith("/v1/webhooks/", StringComparison.Ordinal) || path.StartsWith("/.well-known/", StringComparison.Ordinal) ? null
                : "runtime_key";
            var named = operation["security"]?.AsArray().SelectMany(requirement => requirement!.AsObject().Select(pair => pair.Key)).ToList() ?? [];
            if (scheme is null)
            {
                Assert.Empty(named);
                continue;
            }
            Assert.Equal([scheme], named);
            Assert.NotNull(operation["responses"]!["401"]!["content"]!["application/problem+json"]);
        }
    }

    [Fact]
    public async Task Routes_that_take_a_body_in_API_md_document_a_JSON_request_body()
    {
        var operations = Operations(await DocumentAsync());
        foreach (var route in BodyRoutes())
        {
            if (!operations.TryGetValue(route, out var operation)) continue;
            Assert.True(operation["requestBody"]?["content"]?["application/json"] is not null, $"{route} documents no JSON body.");
        }
        Assert.NotNull(operations["POST /v1/webhooks/stripe/{}/{}"]["requestBody"]?["content"]?["application/json"]);
        Assert.True(Header(operations["POST /v1/usage/consume"], "Idempotency-Key")["required"]!.GetValue<bool>());
        Assert.False(Header(operations["POST /v1/checkout/session"], "Idempotency-Key")["required"]?.GetValue<bool>() ?? false);
        Assert.True(Header(operations["POST /v1/webhooks/stripe/{}/{}"], "Stripe-Signature")["required"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Query_parameters_the_handlers_read_are_documented_with_their_bounds()
    {
        var operations = Operations(await DocumentAsync());
        var limit = Query(operations["GET /v1/admin/tenants/{}/modes/{}/subjects/{}/history"], "limit");
        Assert.Equal(("integer", "1", "500"), (limit["schema"]!["type"]!.ToString(), limit["schema"]!["minimum"]!.ToString(), limit["schema"]!["maximum"]!.ToString()));
        Assert.NotNull(Query(operations["GET /v1/admin/tenants/{}/modes/{}/subjects/{}/history"], "after_version"));
        Assert.True(Query(operations["GET /v1/licenses"], "subject_ref")["required"]!.GetValue<bool>());
        Assert.NotNull(Query(operations["GET /v1/admin/tenants/{}/modes/{}/webhook-deliveries"], "status"));
    }

    private static JsonNode Query(JsonObject operation, string name) =>
        operation["parameters"]!.AsArray().Single(parameter => parameter!["in"]!.GetValue<string>() == "query" && parameter["name"]!.GetValue<string>() == name)!;

    private static JsonNode Header(JsonObject operation, string name) =>
        operation["parameters"]!.AsArray().Single(parameter => parameter!["in"]!.GetValue<string>() == "header" && parameter["name"]!.GetValue<string>() == name)!;

    [Fact]
    public async Task An_independent_validator_accepts_the_document()
    {
        var response = await app.ApiClient().GetAsync("/openapi/v1.json");
        var text = await response.Content.ReadAsStringAsync();
        var directory = typeof(OpenApiTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "WebhookNodeDirectory").Value!;
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "@apidevtools", "swagger-parser")))
            throw new InvalidOperationException($"@apidevtools/swagger-parser is not installed in {directory}. Install Node.js 20+ with npm and rebuild, or run `npm ci` there.");

        var verdict = JsonNode.Parse(await NodeScript.RunAsync(directory, "validate-openapi.mjs", text, "the OpenAPI tests validate the document with @apidevtools/swagger-parser."))!;

        Assert.True(verdict["ok"]!.GetValue<bool>(), verdict["error"]?.GetValue<string>());
    }

    [Fact]
    public async Task The_API_browser_is_not_served_outside_Development()
    {
        var response = await app.ApiClient().GetAsync("/scalar");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>Every `METHOD /path` API.md names (tables and text), with the 4xx/5xx statuses its table row names.</summary>
    private static Dictionary<string, HashSet<string>> ContractRoutes()
    {
        var routes = new Dictionary<string, HashSet<string>>();
        foreach (var line in File.ReadLines(ContractPath()))
        {
            var isRow = line.StartsWith("| `", StringComparison.Ordinal);
            foreach (Match match in RouteInText().Matches(line))
            {
                var route = Route(match);
                if (StripesRoutes.Contains(route)) continue;
                if (!routes.TryGetValue(route, out var statuses)) routes[route] = statuses = [];
                // A row's error statuses belong to the route in its first cell.
                if (isRow && match.Index == 2)
                    foreach (Match error in ErrorInRow().Matches(line[(match.Index + match.Length)..]))
                        if (!error.Value.Contains("at checkout", StringComparison.Ordinal)) statuses.Add(error.Groups[1].Value);
            }
        }
        return routes;
    }

    /// <summary>The routes whose table row has a body cell that is a JSON object.</summary>
    private static IEnumerable<string> BodyRoutes() =>
        File.ReadLines(ContractPath())
            .Where(line => line.StartsWith("| `", StringComparison.Ordinal))
            .Select(line => (Match: RouteInText().Match(line), Cells: line.Split('|')))
            .Where(row => row.Match.Success && row.Cells.Length > 2 && row.Cells[2].Contains("`{", StringComparison.Ordinal))
            .Select(row => Route(row.Match));

    private static string Route(Match match)
    {
        var path = match.Groups["path"].Value;
        if (path.StartsWith("...", StringComparison.Ordinal)) path = ModePrefix + path[3..];
        return $"{match.Groups["method"].Value} {Normalise(path)}";
    }

    /// <summary>Path parameters compare by place, not name (API.md's <c>{id}</c> and the code's names may differ).</summary>
    private static string Normalise(string path) => Parameter().Replace(path, "{}");

    private static string ContractPath()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "docs", "API.md");
            if (File.Exists(candidate) && File.Exists(Path.Combine(directory.FullName, "Licenzy.sln"))) return candidate;
        }
        throw new InvalidOperationException("docs/API.md was not found above the test assembly.");
    }

    [GeneratedRegex(@"`(?<method>GET|POST|PUT|PATCH|DELETE) (?<path>(?:/|\.\.\./)[^`\s?]*)[^`]*`")]
    private static partial Regex RouteInText();

    [GeneratedRegex(@"`([45]\d\d) [a-z_]+`(?: at checkout)?")]
    private static partial Regex ErrorInRow();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Parameter();
}

/// <summary>The API browser in Development: Scalar's page and script, both from the app itself.</summary>
public sealed class OpenApiBrowserTests(OpenApiBrowserTests.DevelopmentApp app) : IClassFixture<OpenApiBrowserTests.DevelopmentApp>
{
    public sealed class DevelopmentApp : LicenzyApp
    {
        public DevelopmentApp() => Settings["Licenzy:Sandbox:Enabled"] = "false";

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Development");
        }
    }

    [Fact]
    public async Task In_Development_the_Scalar_page_and_its_script_are_served_by_the_app()
    {
        var client = app.ApiClient();

        var page = await client.GetAsync("/scalar");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotMatch(@"(src|href)\s*=\s*[""']?(https?:)?//", html);
        Assert.DoesNotContain("cdn.", html, StringComparison.OrdinalIgnoreCase);

        var scripts = Regex.Matches(html, @"<script[^>]*\ssrc=""([^""]+)""").Select(match => match.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        foreach (var script in scripts)
        {
            var url = new Uri(page.RequestMessage!.RequestUri!, script);
            Assert.Equal(client.BaseAddress!.Host, url.Host);
            var response = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True((await response.Content.ReadAsByteArrayAsync()).Length > 1000, $"{script} is nearly empty.");
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/openapi/v1.json")).StatusCode);
    }
}

using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Licenzy.Api.Tests;

/// <summary>
/// The Api app by its own Program, as it is deployed beside Ingest. (Api, Ingest and Standalone
/// each have a top-level Program, so the factory names the Api assembly by one of its types.)
/// </summary>
public sealed class ApiAppAloneTests : IDisposable
{
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));
    private readonly WebApplicationFactory<ApiOptions> _app;

    public ApiAppAloneTests() =>
        _app = new WebApplicationFactory<ApiOptions>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Production");
            builder.UseSetting("Licenzy:DataPath", _dataPath);
        });

    public void Dispose()
    {
        _app.Dispose();
        if (Directory.Exists(_dataPath)) Directory.Delete(_dataPath, recursive: true);
    }

    [Fact]
    public async Task Without_an_admin_token_the_setup_api_refuses_every_call()
    {
        var client = _app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", "anything");

        var create = await client.PostAsJsonAsync("/v1/admin/tenants", new { name = "Acme" });
        var list = await client.GetAsync("/v1/admin/tenants/ten_x/modes/test/products");

        await create.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "admin_token_not_configured");
        await list.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "admin_token_not_configured");
    }

    [Fact]
    public async Task It_serves_the_runtime_api_and_health_but_not_the_webhook_route()
    {
        var client = _app.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        await (await client.PostAsJsonAsync("/v1/access/check", new { subject_ref = "u" })).AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
        await (await client.PostAsync("/v1/webhooks/stripe/ten_x/test", Problems.Json("{}"))).AssertProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task It_serves_its_own_OpenAPI_document_in_Production_without_the_webhook_route_or_the_browser()
    {
        var client = _app.CreateClient();

        var document = System.Text.Json.Nodes.JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;
        var paths = document["paths"]!.AsObject().Select(path => path.Key).ToList();

        Assert.Contains("/v1/access/check", paths);
        Assert.Contains("/v1/admin/tenants", paths);
        Assert.DoesNotContain("/v1/webhooks/stripe/{tenant_id}/{mode}", paths);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/scalar")).StatusCode);
    }
}

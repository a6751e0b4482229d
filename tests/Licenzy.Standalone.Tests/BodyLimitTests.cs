using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Testing;

namespace Licenzy.Standalone.Tests;

/// <summary>
/// Runtime bodies are limited as they are read, also when the client sends no Content-Length
/// (a real Kestrel connection, chunked: the in-memory test server always knows the length).
/// Bodies arriving in pieces are tested piece by piece in JsonBodyTests.
/// </summary>
public sealed class BodyLimitTests : IAsyncLifetime
{
    private const string AdminToken = "body-limit-admin-token-0123456789";
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "licenzy-tests", Guid.NewGuid().ToString("N"));
    private LicenzyProcess _app = null!;
    private HttpClient _runtime = null!;

    public async Task InitializeAsync()
    {
        _app = await LicenzyProcess.StartReadyAsync("Licenzy.Standalone", "Production", new Dictionary<string, string?>
        {
            ["Licenzy:AdminToken"] = AdminToken,
            ["Licenzy:DataPath"] = _dataPath,
        });
        var admin = _app.Client(AdminToken);
        var tenant = await (await admin.PostAsJsonAsync("/v1/admin/tenants", new { name = "Limits" })).Content.ReadFromJsonAsync<JsonElement>();
        var keyResponse = await admin.PostAsJsonAsync($"/v1/admin/tenants/{tenant.GetProperty("tenant_id").GetString()}/modes/test/api-keys", new { });
        Assert.Equal(HttpStatusCode.Created, keyResponse.StatusCode);
        var key = (await keyResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        _runtime = _app.Client(key);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        if (Directory.Exists(_dataPath)) Directory.Delete(_dataPath, recursive: true);
    }

    [Fact]
    public async Task A_body_without_a_length_is_refused_once_it_passes_the_limit()
    {
        var body = $"{{\"subject_ref\": \"user_1\", \"padding\": \"{new string('x', 20_000)}\"}}";
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/access/check") { Content = new UnknownLengthContent(body) };

        var response = await _runtime.SendAsync(request);

        Assert.True(request.Headers.TransferEncodingChunked, "the request was not sent chunked");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }
}

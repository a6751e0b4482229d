using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Licenzy.Portal;

/// <summary>An answer of the setup API: its status and JSON body (a problem+json when it failed).</summary>
public sealed record ApiAnswer(int Status, JsonElement Body)
{
    public bool Ok => Status is >= 200 and < 300;

    public string? Code => Text("code");

    /// <summary>The problem in one line, as an operator should read it.</summary>
    public string Problem
    {
        get
        {
            var title = Text("title") ?? $"HTTP {Status}";
            var detail = Text("detail");
            var errors = Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("errors", out var list) && list.ValueKind == JsonValueKind.Object
                ? string.Join("; ", list.EnumerateObject().Select(e => $"{e.Name}: {string.Join(", ", e.Value.EnumerateArray().Select(v => v.GetString()))}"))
                : null;
            return string.Join(" ", new[] { title + ".", detail, errors }.Where(part => !string.IsNullOrEmpty(part)));
        }
    }

    public string? Text(string name) =>
        Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public IEnumerable<JsonElement> Items(string name) =>
        Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray()
            : [];
}

/// <summary>
/// The setup API, called over HTTP with the admin token of the signed-in session (or the one being
/// tried at sign-in): the portal adds no rule of its own, so what the API refuses, the portal shows.
/// </summary>
public sealed class SetupClient(IHttpClientFactory http, IHttpContextAccessor context, IOptions<PortalOptions> options, IServer server)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public Task<ApiAnswer> GetAsync(string path, CancellationToken ct = default) => SendAsync(HttpMethod.Get, path, null, null, ct);

    public Task<ApiAnswer> PostAsync(string path, object? body, CancellationToken ct = default) => SendAsync(HttpMethod.Post, path, body, null, ct);

    public Task<ApiAnswer> PutAsync(string path, object body, CancellationToken ct = default) => SendAsync(HttpMethod.Put, path, body, null, ct);

    public Task<ApiAnswer> PatchAsync(string path, object body, CancellationToken ct = default) => SendAsync(HttpMethod.Patch, path, body, null, ct);

    public Task<ApiAnswer> DeleteAsync(string path, CancellationToken ct = default) => SendAsync(HttpMethod.Delete, path, null, null, ct);

    /// <summary>Whether <paramref name="adminToken"/> is the admin token: the setup API says so.</summary>
    public async Task<ApiAnswer> TryTokenAsync(string adminToken, CancellationToken ct = default) =>
        await SendAsync(HttpMethod.Get, "/v1/admin/tenants", null, adminToken, ct);

    private async Task<ApiAnswer> SendAsync(HttpMethod method, string path, object? body, string? token, CancellationToken ct)
    {
        token ??= context.HttpContext?.User.FindFirst(PortalApp.TokenClaim)?.Value;
        using var request = new HttpRequestMessage(method, new Uri(BaseAddress(), path));
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        using var response = await http.CreateClient(PortalApp.HttpClientName).SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        JsonElement parsed = default;
        if (text.Length > 0)
        {
            try
            {
                parsed = JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
                // Not JSON: the status says what there is to say.
            }
        }
        return new ApiAnswer((int)response.StatusCode, parsed);
    }

    private Uri BaseAddress()
    {
        if (options.Value.ApiBaseUrl is { } configured) return configured;
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        if (address is null) return new Uri("http://localhost");
        var wildcard = address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal).Replace("://[::]", "://localhost", StringComparison.Ordinal);
        return new Uri(wildcard);
    }
}

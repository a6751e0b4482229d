using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Licenzy.Sandbox.Tests;

/// <summary>The sandbox's receiver: the tenant's app in miniature, for watching outbound webhooks arrive.</summary>
public sealed class ReceiverTests(SandboxedLicenzy app) : IClassFixture<SandboxedLicenzy>
{
    private static HttpRequestMessage Webhook(string path, string id, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", "1764921600");
        request.Headers.Add("webhook-signature", "v1,c2lnbmF0dXJl");
        return request;
    }

    private async Task<List<JsonElement>> ReceivedAsync() =>
        (await app.AdminClient().GetFromJsonAsync<JsonElement>("/sandbox/receiver")).GetProperty("messages").EnumerateArray().ToList();

    private async Task<JsonElement?> FindAsync(string id) =>
        (await ReceivedAsync()).Cast<JsonElement?>().FirstOrDefault(m => m!.Value.GetProperty("webhook_id").GetString() == id);

    [Fact]
    public async Task A_webhook_is_kept_with_its_headers_and_listed_newest_first()
    {
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var response = await app.CreateClient().SendAsync(Webhook("/sandbox/receiver", id, """{"id":"x","type":"license.created","data":{"key":"LZ-1"}}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var later = "msg_" + Guid.NewGuid().ToString("N");
        await app.CreateClient().SendAsync(Webhook("/sandbox/receiver", later, "not json"));

        var messages = await ReceivedAsync();
        var kept = (await FindAsync(id))!.Value;
        Assert.Equal("license.created", kept.GetProperty("type").GetString());
        Assert.Equal("1764921600", kept.GetProperty("webhook_timestamp").GetString());
        Assert.Equal("v1,c2lnbmF0dXJl", kept.GetProperty("webhook_signature").GetString());
        Assert.Equal("LZ-1", kept.GetProperty("body").GetProperty("data").GetProperty("key").GetString());
        Assert.Equal(200, kept.GetProperty("answered_status").GetInt32());
        var raw = (await FindAsync(later))!.Value;
        Assert.Equal("not json", raw.GetProperty("raw_body").GetString());
        Assert.True(messages.FindIndex(m => m.GetProperty("webhook_id").GetString() == later)
            < messages.FindIndex(m => m.GetProperty("webhook_id").GetString() == id));
    }

    [Fact]
    public async Task A_status_in_the_query_is_the_answer_so_retries_can_be_watched()
    {
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var response = await app.CreateClient().SendAsync(Webhook("/sandbox/receiver?status=503", id, "{}"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(503, (await FindAsync(id))!.Value.GetProperty("answered_status").GetInt32());
    }

    [Theory]
    [InlineData("?status=abc")]
    [InlineData("?status=199")]
    [InlineData("?status=600")]
    [InlineData("?status=200&status=500")]
    [InlineData("?status=+200")]
    public async Task A_bad_status_is_a_400_and_nothing_is_kept(string query)
    {
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var response = await app.CreateClient().SendAsync(Webhook("/sandbox/receiver" + query, id, "{}"));
        await Problems.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
        Assert.Null(await FindAsync(id));
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_and_nothing_is_kept()
    {
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var response = await app.CreateClient().SendAsync(Webhook("/sandbox/receiver", id, new string('x', 256 * 1024 + 1)));
        await Problems.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "request_too_large");
        Assert.Null(await FindAsync(id));
    }

    [Fact]
    public async Task Reading_or_clearing_what_arrived_takes_the_admin_token()
    {
        await Problems.AssertProblemAsync(await app.CreateClient().GetAsync("/sandbox/receiver"), HttpStatusCode.Unauthorized, "invalid_admin_token");
        await Problems.AssertProblemAsync(await app.CreateClient().DeleteAsync("/sandbox/receiver"), HttpStatusCode.Unauthorized, "invalid_admin_token");
    }
}

using System.Text;
using System.Text.Json;
using Licenzy.Infrastructure.Http;
using Licenzy.Sandbox.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Licenzy.Sandbox.Receiver;

/// <summary>
/// A stand-in for the tenant's app on the receiving end of Licenzy's outbound webhooks:
/// <c>POST /sandbox/receiver</c> is the URL to register as a webhook endpoint (it keeps what it
/// gets and answers <c>200</c>, or the status given as <c>?status=</c>, to watch retries), and
/// <c>GET /sandbox/receiver</c> (admin token) lists what arrived, newest first.
/// <c>DELETE /sandbox/receiver</c> forgets it all.
/// </summary>
public static class ReceiverApi
{
    /// <summary>Outbound messages are a few kilobytes; this only stops a runaway sender.</summary>
    public const int MaxBodyBytes = 256 * 1024;

    public sealed record ReceivedView(DateTimeOffset ReceivedAt, string? WebhookId, string? WebhookTimestamp, string? WebhookSignature,
        string? Type, int AnsweredStatus, JsonElement? Body, string? RawBody);

    public sealed record ReceivedList(IReadOnlyList<ReceivedView> Messages);

    public static RouteGroupBuilder MapSandboxReceiver(this RouteGroupBuilder sandbox)
    {
        var receiver = sandbox.MapGroup("/receiver");
        receiver.MapPost("", ReceiveAsync);
        var admin = sandbox.MapGroup("/receiver").RequireAdminToken();
        admin.MapGet("", List);
        admin.MapDelete("", Clear);
        return sandbox;
    }

    private static async Task<IResult> ReceiveAsync(HttpRequest request, ReceivedWebhooks received, TimeProvider clock, CancellationToken ct)
    {
        var status = StatusFrom(request.Query["status"]);
        if (status is null) return ApiError.InvalidRequest("status, when given, must be one HTTP status code from 200 to 599.").ToResult();

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) return ApiError.RequestTooLarge(MaxBodyBytes).ToResult();
            buffer.Write(chunk, 0, read);
        }

        var headers = request.Headers;
        received.Add(new ReceivedWebhook(clock.GetUtcNow(), headers["webhook-id"].FirstOrDefault(), headers["webhook-timestamp"].FirstOrDefault(),
            headers["webhook-signature"].FirstOrDefault(), Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), status.Value));
        return Results.StatusCode(status.Value);
    }

    private static int? StatusFrom(Microsoft.Extensions.Primitives.StringValues values)
    {
        if (values.Count == 0) return StatusCodes.Status200OK;
        return values.Count == 1 && int.TryParse(values[0], System.Globalization.NumberStyles.None, null, out var status) && status is >= 200 and <= 599
            ? status
            : null;
    }

    private static IResult List(ReceivedWebhooks received) =>
        Results.Json(new ReceivedList(received.Newest().Select(View).ToList()), Infrastructure.LicenzyJson.Options);

    private static IResult Clear(ReceivedWebhooks received)
    {
        received.Clear();
        return Results.NoContent();
    }

    /// <summary>A JSON body is shown as JSON with its <c>type</c>; anything else as the text it was.</summary>
    private static ReceivedView View(ReceivedWebhook webhook)
    {
        JsonElement? body = null;
        string? type = null;
        try
        {
            var parsed = JsonDocument.Parse(webhook.Body).RootElement.Clone();
            body = parsed;
            if (parsed.ValueKind == JsonValueKind.Object && parsed.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String) type = t.GetString();
        }
        catch (JsonException)
        {
        }
        return new ReceivedView(webhook.ReceivedAt, webhook.WebhookId, webhook.WebhookTimestamp, webhook.WebhookSignature, type,
            webhook.AnsweredStatus, body, body is null ? webhook.Body : null);
    }
}

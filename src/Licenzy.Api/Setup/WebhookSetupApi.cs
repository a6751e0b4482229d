using Licenzy.Infrastructure.Http;
using Licenzy.Api.Http;
using Licenzy.Api.Webhooks;
using Licenzy.Domain;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Licenzy.Api.Setup;

/// <summary>The setup routes of outbound webhooks: a tenant's endpoints, their secrets, the delivery log.</summary>
public static class WebhookSetupApi
{
    /// <summary>Maps the routes on the per-mode group, whose filter has already checked tenant and mode.</summary>
    public static RouteGroupBuilder MapWebhookSetupApi(this RouteGroupBuilder mode)
    {
        mode.MapPost("/webhook-endpoints", CreateEndpoint)
            .AcceptsJson<RequestBodies.CreateWebhookEndpointRequest>().ProducesProblems(409, 413, 415);
        mode.MapGet("/webhook-endpoints", ListEndpoints);
        mode.MapDelete("/webhook-endpoints/{id}", DeleteEndpoint);
        mode.MapPost("/webhook-endpoints/{id}/rotate-secret", RotateSecret);
        mode.MapGet("/webhook-deliveries", ListDeliveries).WithQueryParameter("status", required: false, "pending, delivered or failed; all when absent");
        mode.MapPost("/webhook-deliveries/{id}/retry", RetryDelivery);
        return mode;
    }

    public sealed record EndpointsResponse(IReadOnlyList<WebhookEndpointView> Endpoints);
    public sealed record SecretResponse(string Secret);
    public sealed record DeliveriesResponse(IReadOnlyList<WebhookDeliveryView> Deliveries);

    private static async Task<Results<Created<CreatedWebhookEndpoint>, ProblemHttpResult>> CreateEndpoint(
        string tenant_id, string mode, HttpRequest request, WebhookEndpoints endpoints, WebhookAddressGuard guard, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(request, JsonBody.SetupLimit, ct);
        if (error is not null) return error.ToResult();
        var url = body!.String("url", required: true, maxLength: 2048);
        var events = body.Has("events") ? body.StringArray("events", 16, 64) : WebhookEventTypes.All;
        if (body.Has("events") && !body.HasErrors)
        {
            var unknown = events.FirstOrDefault(type => !WebhookEventTypes.IsKnown(type));
            if (unknown is not null)
                body.AddError("events", $"'{unknown}' is not an event type; known: {string.Join(", ", WebhookEventTypes.All)}");
            else if (events.Count == 0) body.AddError("events", "must name at least one event type, or be left out for all");
        }
        if (body.HasErrors) return body.ValidationError().ToResult();

        var wanted = SetupApi.ModeOf(mode);
        if (await UrlProblemAsync(url!, wanted, guard, ct) is { } problem) return InvalidUrl(problem).ToResult();

        var created = await endpoints.CreateAsync(tenant_id, wanted, url!, events.Distinct(StringComparer.Ordinal).ToList(), ct);
        if (created is null)
            return new ApiError(409, "webhook_endpoint_limit", "Too many webhook endpoints",
                $"A tenant may have at most {WebhookEndpoints.MaxPerMode} webhook endpoints per mode; delete one first.").ToResult();
        return TypedResults.Created($"/v1/admin/tenants/{tenant_id}/modes/{mode}/webhook-endpoints/{created.Id}", created);
    }

    /// <summary>Why the URL cannot be a webhook endpoint in this mode, or null when it can.</summary>
    private static async Task<string?> UrlProblemAsync(string url, Mode mode, WebhookAddressGuard guard, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            return "The url must be an absolute http or https URL.";
        if (mode == Mode.Live && uri.Scheme != Uri.UriSchemeHttps) return "In live mode the url must be https.";
        if (uri.UserInfo.Length > 0) return "The url must not carry a user name or password.";
        try
        {
            await guard.ResolveAsync(uri.IdnHost, ct);
            return null;
        }
        catch (WebhookAddressRefusedException e)
        {
            return $"The url cannot be used: {e.Message}.";
        }
        catch (UriFormatException)
        {
            // IdnHost converts an international name to ASCII, which some names Uri parsed cannot be.
            return "The url's host name is not a valid international domain name.";
        }
    }

    private static ApiError InvalidUrl(string detail) => new(400, "invalid_url", "Invalid webhook URL", detail);

    private static async Task<Ok<EndpointsResponse>> ListEndpoints(string tenant_id, string mode, WebhookEndpoints endpoints, CancellationToken ct) =>
        TypedResults.Ok(new EndpointsResponse((await endpoints.ListAsync(tenant_id, SetupApi.ModeOf(mode), ct)).Select(WebhookEndpointView.Of).ToList()));

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteEndpoint(
        string tenant_id, string mode, string id, WebhookEndpoints endpoints, CancellationToken ct) =>
        await endpoints.DeleteAsync(tenant_id, SetupApi.ModeOf(mode), id, ct) ? TypedResults.NoContent() : UnknownEndpoint(id).ToResult();

    private static async Task<Results<Ok<SecretResponse>, ProblemHttpResult>> RotateSecret(
        string tenant_id, string mode, string id, WebhookEndpoints endpoints, CancellationToken ct) =>
        await endpoints.RotateSecretAsync(tenant_id, SetupApi.ModeOf(mode), id, ct) is { } secret
            ? TypedResults.Ok(new SecretResponse(secret))
            : UnknownEndpoint(id).ToResult();

    private static ApiError UnknownEndpoint(string id) =>
        new(404, "unknown_webhook_endpoint", "Unknown webhook endpoint", $"There is no webhook endpoint '{id}' in this tenant and mode.");

    private static async Task<Results<Ok<DeliveriesResponse>, ProblemHttpResult>> ListDeliveries(
        string tenant_id, string mode, HttpRequest request, WebhookDeliveries deliveries, CancellationToken ct)
    {
        WebhookDeliveryStatus? status = null;
        if (request.Query.TryGetValue("status", out var values))
        {
            status = values.ToString() switch
            {
                "pending" => WebhookDeliveryStatus.Pending,
                "delivered" => WebhookDeliveryStatus.Delivered,
                "failed" => WebhookDeliveryStatus.Failed,
                _ => null,
            };
            if (status is null)
                return ApiError.InvalidRequest("status must be pending, delivered or failed.",
                    new Dictionary<string, string[]> { ["status"] = ["must be pending, delivered or failed"] }).ToResult();
        }
        return TypedResults.Ok(new DeliveriesResponse(await deliveries.ListAsync(tenant_id, SetupApi.ModeOf(mode), status, ct)));
    }

    private static async Task<Results<Accepted<WebhookDeliveryView>, ProblemHttpResult>> RetryDelivery(
        string tenant_id, string mode, string id, WebhookDeliveries deliveries, WebhookDispatcher dispatcher, CancellationToken ct)
    {
        var retried = await deliveries.RetryAsync(tenant_id, SetupApi.ModeOf(mode), id, ct);
        if (retried is null)
            return new ApiError(404, "unknown_webhook_delivery", "Unknown webhook delivery",
                $"There is no webhook delivery '{id}' in this tenant and mode.").ToResult();
        dispatcher.Schedule(new ScheduledDelivery(retried.StateKey, retried.EndpointId, retried.NextAttemptAt!.Value));
        return TypedResults.Accepted((string?)null, WebhookDeliveryView.Of(retried));
    }
}

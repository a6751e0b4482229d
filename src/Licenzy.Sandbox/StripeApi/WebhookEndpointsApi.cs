using System.Text.Json.Nodes;
using Licenzy.Sandbox.Account;
using Licenzy.Sandbox.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Licenzy.Sandbox.StripeApi;

/// <summary>
/// Stripe's <c>/v1/webhook_endpoints</c> as far as Licenzy uses it: create (the only answer that
/// shows the endpoint's secret), retrieve, list and delete. Licenzy registers a tenant's endpoint
/// here, and the sandbox then signs that tenant's webhooks with its secret.
/// </summary>
public static class WebhookEndpointsApi
{
    private const string EnabledEvents = "enabled_events";

    /// <summary>More than Stripe's own list of event types; a bound on what one request may ask for.</summary>
    private const int MaxEnabledEvents = 512;

    public static RouteGroupBuilder MapWebhookEndpoints(this RouteGroupBuilder stripe)
    {
        stripe.MapPost("/v1/webhook_endpoints", CreateAsync);
        stripe.MapGet("/v1/webhook_endpoints", List);
        stripe.MapGet("/v1/webhook_endpoints/{id}", Get);
        stripe.MapDelete("/v1/webhook_endpoints/{id}", Delete);
        return stripe;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, SandboxAccount account, TimeProvider clock)
    {
        if (!http.Request.HasFormContentType)
        {
            return new StripeError(400, StripeError.InvalidRequest,
                "Invalid request: send the parameters form-encoded (application/x-www-form-urlencoded), as Stripe's API takes them.").ToResult();
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var url = form["url"].Count > 0 ? form["url"][^1] ?? "" : "";
        if (url.Length == 0) return StripeError.Missing("url").ToResult();
        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps))
            return StripeError.Invalid("url", $"Invalid URL: {url}. The URL must be an absolute http(s) URL.").ToResult();

        var events = EnabledEventsOf(form);
        if (events.Count == 0) return StripeError.Missing(EnabledEvents).ToResult();
        if (events.Count > MaxEnabledEvents || events.Any(type => type.Length is 0 or > 100))
            return StripeError.Invalid(EnabledEvents, "Invalid enabled_events: each must be an event type such as invoice.paid, or *.").ToResult();

        string? apiVersion = null;
        if (form["api_version"].Count > 0 && form["api_version"][^1] is { Length: > 0 } asked)
        {
            if (!StripeApiVersion.TryParse(asked, out var version))
                return StripeError.Invalid("api_version", $"Invalid api_version: {asked}. It must be a Stripe API version such as 2024-06-20.").ToResult();
            apiVersion = version.Name;
        }

        var endpoint = account.Transact(data =>
        {
            var made = new SandboxWebhookEndpoint(StripeIds.New("we"), url, events, apiVersion,
                StripeIds.New("whsec"), clock.GetUtcNow(), data.NextSequence());
            data.WebhookEndpoints[made.Id] = made;
            return made;
        });
        return StripeAnswer.Json(Json(endpoint, withSecret: true));
    }

    private static IResult List(SandboxAccount account)
    {
        var endpoints = account.Transact(data => data.WebhookEndpoints.Values.OrderByDescending(endpoint => endpoint.Sequence).ToList());
        return StripeAnswer.Json(new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([.. endpoints.Select(endpoint => (JsonNode)Json(endpoint, withSecret: false))]),
            ["has_more"] = false,
            ["url"] = "/v1/webhook_endpoints",
        });
    }

    private static IResult Get(string id, SandboxAccount account) =>
        account.Transact(data => data.WebhookEndpoints.GetValueOrDefault(id)) is { } endpoint
            ? StripeAnswer.Json(Json(endpoint, withSecret: false))
            : NoSuchEndpoint(id);

    private static IResult Delete(string id, SandboxAccount account) =>
        account.Transact(data => data.WebhookEndpoints.Remove(id))
            ? StripeAnswer.Json(new JsonObject { ["id"] = id, ["object"] = "webhook_endpoint", ["deleted"] = true })
            : NoSuchEndpoint(id);

    private static IResult NoSuchEndpoint(string id) =>
        new StripeError(404, StripeError.InvalidRequest, $"No such webhook endpoint: '{id}'", "resource_missing", "id").ToResult();

    /// <summary>
    /// A list parameter as Stripe takes it: <c>enabled_events[]=a&amp;enabled_events[]=b</c> (curl) or
    /// <c>enabled_events[0]=a&amp;enabled_events[1]=b</c> (Stripe's libraries), in the order given.
    /// </summary>
    private static List<string> EnabledEventsOf(IFormCollection form) =>
        [.. form.Where(field => field.Key.StartsWith(EnabledEvents + "[", StringComparison.Ordinal) && field.Key.EndsWith(']'))
            .OrderBy(field => int.TryParse(field.Key.AsSpan(EnabledEvents.Length + 1, field.Key.Length - EnabledEvents.Length - 2), out var index) ? index : -1)
            .SelectMany(field => field.Value.Select(value => value ?? ""))];

    private static JsonObject Json(SandboxWebhookEndpoint endpoint, bool withSecret)
    {
        var json = new JsonObject
        {
            ["id"] = endpoint.Id,
            ["object"] = "webhook_endpoint",
            ["api_version"] = endpoint.ApiVersion,
            ["application"] = null,
            ["created"] = endpoint.Created.ToUnixTimeSeconds(),
            ["description"] = null,
            ["enabled_events"] = new JsonArray([.. endpoint.EnabledEvents.Select(type => (JsonNode)type)]),
            ["livemode"] = false,
            ["metadata"] = new JsonObject(),
            ["status"] = "enabled",
            ["url"] = endpoint.Url,
        };
        // As Stripe: the secret is shown when the endpoint is made, never again.
        if (withSecret) json["secret"] = endpoint.Secret;
        return json;
    }
}

using Licenzy.Infrastructure.Telemetry;
using Licenzy.Domain;
using Licenzy.Domain.Billing;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.Http;
using Licenzy.Infrastructure.PubSub;
using Licenzy.Stripe;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Licenzy.Ingest.Webhooks;

/// <summary>
/// Stripe's way in. Verifies the signature, stores the event once and queues it in one step, and
/// only then answers 2xx: once Stripe hears 2xx the event is not lost. Never calls the Api.
/// </summary>
public static class StripeWebhookApi
{
    /// <summary>Stripe's events are far smaller; anything larger is not from Stripe.</summary>
    public const int BodyLimit = 1024 * 1024;

    /// <summary>A Stripe event as Stripe sends it, for the OpenAPI document: the route reads the raw bytes, to check <c>Stripe-Signature</c>.</summary>
    public sealed record StripeEventBody(string Id, string Type, long Created, bool Livemode, System.Text.Json.Nodes.JsonObject Data);

    public sealed record WebhookReceived(bool Received, string EventId, bool Duplicate);

    public static IEndpointRouteBuilder MapStripeWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/webhooks/stripe/{tenant_id}/{mode}", Receive)
            .AcceptsJson<StripeEventBody>()
            .WithRequestHeader("Stripe-Signature", required: true, "Stripe's signature of the raw body (t=...,v1=...)").ProducesProblems(400, 404, 413);
        return app;
    }

    private static async Task<Results<Ok<WebhookReceived>, ProblemHttpResult>> Receive(
        string tenant_id, string mode, HttpRequest request, WebhookSecrets secrets, IOutboxStore outbox,
        TimeProvider clock, ILoggerFactory logs, LicenzyMetrics metrics, CancellationToken ct)
    {
        using var span = LicenzyTelemetry.StartRequest(request.HttpContext, "/v1/webhooks/stripe/{tenant_id}/{mode}");
        var log = logs.CreateLogger(typeof(StripeWebhookApi));
        if (!Modes.TryParse(mode, out var parsedMode)) return ApiError.InvalidMode().ToResult();
        if (request.ContentLength > BodyLimit) return ApiError.RequestTooLarge(BodyLimit).ToResult();
        var (payload, tooLarge) = await JsonBody.ReadBytesAsync(request.Body, BodyLimit, ct);
        if (tooLarge) return ApiError.RequestTooLarge(BodyLimit).ToResult();

        var accepted = await secrets.FindAsync(tenant_id, parsedMode, ct);
        if (accepted is null)
        {
            return new ApiError(404, "webhook_endpoint_unknown", "Unknown webhook endpoint",
                "No tenant has Stripe connected for this path. Check the webhook URL the setup API gave.").ToResult();
        }

        if (!Utf8.TryDecode(payload, out var body))
        {
            return new ApiError(400, "invalid_event", "Not a Stripe event", "The body is not UTF-8 text, so it is not a Stripe event.").ToResult();
        }

        var check = StripeSignature.Check(body, request.Headers["Stripe-Signature"].ToString(), accepted, clock.GetUtcNow());
        if (!check.IsValid)
        {
            log.LogWarning("Refused a webhook for tenant {TenantId} ({Mode}): {SignatureProblem}", tenant_id, parsedMode, check.Problem);
            metrics.StripeWebhook(null, "refused");
            return new ApiError(400, "invalid_signature", "Invalid Stripe signature", check.Problem).ToResult();
        }

        // A problem inside data.object is kept and dead-lettered by the Api (Stripe signed it; a retry
        // would not mend it); one in the envelope (the id and type among it) means there is no event to keep.
        using (JsonRules.Parse(new System.Buffers.ReadOnlySequence<byte>(payload), out var problem, JsonRules.StripeEventMaxDepth))
        {
            if (problem is not null && !problem.IsWithin("$.data"))
                return new ApiError(400, "invalid_event", "Not a Stripe event", $"The body is not a Stripe event: {problem.Text}.").ToResult();
        }
        StripeEvent stripeEvent;
        try
        {
            stripeEvent = StripeEvent.Parse(body);
        }
        catch (StripePayloadException e)
        {
            return new ApiError(400, "invalid_event", "Not a Stripe event", $"The body is not a Stripe event: {e.Message}").ToResult();
        }
        if (stripeEvent.Livemode != (parsedMode == Mode.Live))
        {
            return new ApiError(400, "livemode_mismatch", "Event from the other mode",
                $"This event has livemode={stripeEvent.Livemode.ToString().ToLowerInvariant()} but was sent to the {mode} endpoint.").ToResult();
        }

        var received = new ReceivedBillingEvent
        {
            TenantId = tenant_id, Mode = parsedMode, EventId = stripeEvent.Id, Type = stripeEvent.Type,
            ReceivedAt = clock.GetUtcNow(), Payload = body,
        };
        var stored = await outbox.TryStoreAndPublishAsync(Components.EventStore, StateKeys.ReceivedEvent(tenant_id, parsedMode, stripeEvent.Id),
            received, Topics.BillingEvents, stripeEvent.Id, ct);
        metrics.StripeWebhook(stripeEvent.Type, stored ? "queued" : "duplicate");
        log.LogInformation("Received Stripe event {EventId} ({EventType}) for tenant {TenantId} ({Mode}); duplicate: {Duplicate}",
            stripeEvent.Id, stripeEvent.Type, tenant_id, parsedMode, !stored);
        return TypedResults.Ok(new WebhookReceived(true, stripeEvent.Id, Duplicate: !stored));
    }

    /// <summary>Stripe signs the body's UTF-8 bytes; a body that is not UTF-8 cannot be one it signed.</summary>
    private static class Utf8
    {
        private static readonly System.Text.UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        public static bool TryDecode(byte[] bytes, out string text)
        {
            try
            {
                text = Strict.GetString(bytes);
                return true;
            }
            catch (System.Text.DecoderFallbackException)
            {
                text = "";
                return false;
            }
        }
    }
}

using System.Text.Json;
using Licenzy.Domain.Subjects;
using Licenzy.Infrastructure.Http;
using Licenzy.Sandbox.Admin;
using Licenzy.Sandbox.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Licenzy.Sandbox.Triggers;

/// <summary>
/// <c>POST /sandbox/triggers</c> <c>{tenant_id, subject_ref, event, product_code?}</c>: makes a
/// lifecycle event happen to a subject's purchase and answers once Licenzy accepted every webhook.
/// </summary>
public static partial class TriggersApi
{
    public const string NothingToTrigger = "nothing_to_trigger";

    public sealed record DeliveredEvent(string Id, string Type);

    public sealed record TriggerResponse(IReadOnlyList<DeliveredEvent> Events);

    public static RouteGroupBuilder MapSandboxTriggers(this RouteGroupBuilder sandbox)
    {
        sandbox.MapGroup("/triggers").RequireAdminToken().MapPost("", TriggerAsync);
        return sandbox;
    }

    private static async Task<IResult> TriggerAsync(
        HttpRequest request, LifecycleTriggers triggers, WebhookDeliveries deliveries, ILoggerFactory logs, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(request, JsonBody.SetupLimit, ct);
        if (error is not null) return error.ToResult();
        var tenantId = body!.String("tenant_id", required: true, maxLength: 100);
        var eventName = body.String("event", required: true, maxLength: 40);
        LifecycleTrigger trigger = default;
        if (eventName is not null && !LifecycleTriggerNames.TryParse(eventName, out trigger))
            body.AddError("event", "must be one of " + string.Join(", ", LifecycleTriggerNames.All));
        var productCode = body.String("product_code", required: false, maxLength: 64);
        if (body.Element("subject_ref") is null) body.AddError("subject_ref", "is required");
        if (body.HasErrors) return body.ValidationError().ToResult();
        if (body.Element("subject_ref") is not { ValueKind: JsonValueKind.String } subjectValue || !SubjectRef.IsValid(subjectValue.GetString()))
            return ApiError.InvalidSubjectRef().ToResult();
        var subjectRef = subjectValue.GetString()!;

        await using var turn = await deliveries.BeginAsync(tenantId!, ct);
        var outcome = triggers.Apply(tenantId!, subjectRef, productCode, trigger);
        if (outcome is TriggerOutcome.UnknownTenant unknown) return (ApiError.UnknownTenant(tenantId!) with { Detail = unknown.Detail }).ToResult();
        if (outcome is TriggerOutcome.NothingToActOn nothing)
            return new ApiError(404, NothingToTrigger, "Nothing to trigger", nothing.Detail).ToResult();

        var events = ((TriggerOutcome.Happened)outcome).Events;
        LogTriggered(logs.CreateLogger(typeof(TriggersApi)), eventName!, tenantId!, events.Count);
        var report = await turn.DeliverAsync(events, ct);
        if (!report.AllDelivered) return DeliveryProblem.ToApiError(report).ToResult();
        return TypedResults.Ok(new TriggerResponse([.. report.Delivered.Select(e => new DeliveredEvent(e.Id, e.Type))]));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox trigger {Trigger} for tenant {TenantId} made {EventCount} Stripe events")]
    private static partial void LogTriggered(ILogger logger, string trigger, string tenantId, int eventCount);
}

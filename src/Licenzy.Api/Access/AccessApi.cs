using Licenzy.Infrastructure.Telemetry;
using Licenzy.Infrastructure.Http;
using Licenzy.Api.Http;
using Licenzy.Api.Subjects;
using Licenzy.Domain.Access;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Subjects;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json.Serialization;

namespace Licenzy.Api.Access;

/// <summary>The reads: may this subject use it now, and what does it have.</summary>
public static class AccessApi
{
    public static RouteGroupBuilder MapAccessApi(this RouteGroupBuilder runtime)
    {
        runtime.MapPost("/access/check", Check)
            .AcceptsJson<RequestBodies.AccessCheckRequest>().ProducesProblems(400, 413, 415);
        runtime.MapGet("/customer/access/{subject_ref}", CustomerAccess).ProducesProblems(400);
        runtime.MapGet("/entitlements/{subject_ref}", Entitlements).ProducesProblems(400);
        return runtime;
    }

    public sealed record AccessCheckResponse(
        string SubjectRef, bool Allowed, long Version, DateTimeOffset AsOf,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Feature);

    private static async ValueTask<Results<Ok<AccessCheckResponse>, ProblemHttpResult>> Check(
        HttpRequest request, SubjectReader subjects, TimeProvider clock, LicenzyMetrics metrics, CancellationToken ct)
    {
        var caller = request.HttpContext.Caller();
        var (body, subjectRef, error) = await RuntimeRequests.ReadAsync(request, ct);
        if (error is not null) return error.ToResult();
        if (body!.Has("product_code"))
            return new ApiError(400, "product_code_not_allowed", "Ask about features, not products",
                "An access check takes subject_ref and an optional feature; products are a billing detail. Send feature instead.").ToResult();
        var feature = body.String("feature", required: false, maxLength: 64);
        if (body.HasErrors) return body.ValidationError().ToResult();

        var now = clock.GetUtcNow();
        var (allowed, version) = await subjects.CheckAsync(new SubjectKey(caller.TenantId, caller.Mode, subjectRef!), feature, now, ct);
        metrics.AccessChecked(allowed);
        return TypedResults.Ok(new AccessCheckResponse(subjectRef!, allowed, version, now, feature));
    }

    public sealed record CustomerEntitlement(
        string ProductCode, string Kind, string Status, bool Available, string AvailabilityReason,
        IReadOnlyList<string> Features, long? UsageRemaining, DateTimeOffset? ExpiresAt, DateTimeOffset? GraceEndsAt);

    public sealed record CustomerAccessResponse(
        string SubjectRef, bool HasAccess, string Status, long Version, DateTimeOffset AsOf, IReadOnlyList<CustomerEntitlement> Entitlements)
    {
        /// <summary>The customer view of <paramref name="state"/> at <paramref name="now"/> (also the data of <c>entitlements.updated</c>).</summary>
        public static CustomerAccessResponse Of(string subjectRef, SubjectState? state, DateTimeOffset now)
        {
            var summary = AccessDecision.Summarise(state, now);
            var entitlements = (state?.Entitlements ?? []).Select(e =>
            {
                var at = e.Evaluate(now);
                return new CustomerEntitlement(e.ProductCode, Wire.Of(e.Kind), Wire.Of(at.Status), at.Available, Wire.Of(at.Reason),
                    e.Features, at.UsageRemaining, e.ExpiresAt, e.GraceEndsAt);
            }).ToList();
            return new CustomerAccessResponse(subjectRef, summary.HasAccess,
                summary.Status is { } status ? Wire.Of(status) : "none", state?.Version ?? 0, now, entitlements);
        }
    }

    private static async Task<Results<Ok<CustomerAccessResponse>, ProblemHttpResult>> CustomerAccess(
        HttpContext http, string subject_ref, SubjectReader subjects, TimeProvider clock, CancellationToken ct)
    {
        var caller = http.Caller();
        if (RuntimeRequests.CheckPathSubject(subject_ref) is { } error) return error.ToResult();
        var state = await subjects.GetAsync(new SubjectKey(caller.TenantId, caller.Mode, subject_ref), ct);
        return TypedResults.Ok(CustomerAccessResponse.Of(subject_ref, state, clock.GetUtcNow()));
    }

    public sealed record EntitlementResponse(
        string Id, string ProductCode, string Kind, string Status, bool Available, string AvailabilityReason,
        IReadOnlyList<string> Features, long? UsageGranted, long? UsageRemaining,
        DateTimeOffset? StartsAt, DateTimeOffset? ExpiresAt, DateTimeOffset? GraceEndsAt, DateTimeOffset UpdatedAt);

    public sealed record EntitlementsResponse(string SubjectRef, long Version, DateTimeOffset AsOf, IReadOnlyList<EntitlementResponse> Entitlements);

    private static async Task<Results<Ok<EntitlementsResponse>, ProblemHttpResult>> Entitlements(
        HttpContext http, string subject_ref, SubjectReader subjects, TimeProvider clock, CancellationToken ct)
    {
        var caller = http.Caller();
        if (RuntimeRequests.CheckPathSubject(subject_ref) is { } error) return error.ToResult();
        var state = await subjects.GetAsync(new SubjectKey(caller.TenantId, caller.Mode, subject_ref), ct);
        var now = clock.GetUtcNow();
        return TypedResults.Ok(new EntitlementsResponse(subject_ref, state?.Version ?? 0, now,
            (state?.Entitlements ?? []).Select(e => Describe(e, now)).ToList()));
    }

    internal static EntitlementResponse Describe(Entitlement e, DateTimeOffset now)
    {
        var at = e.Evaluate(now);
        return new EntitlementResponse(e.Id, e.ProductCode, Wire.Of(e.Kind), Wire.Of(at.Status), at.Available, Wire.Of(at.Reason),
            e.Features, e.UsageGranted, at.UsageRemaining, e.StartsAt, e.ExpiresAt, e.GraceEndsAt, e.UpdatedAt);
    }
}

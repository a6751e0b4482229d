using Licenzy.Infrastructure.Telemetry;
using Licenzy.Infrastructure.Http;
using System.Text.Json;
using Licenzy.Api.Http;
using Licenzy.Api.Idempotency;
using Licenzy.Api.Subjects;
using Licenzy.Domain.Usage;

namespace Licenzy.Api.Usage;

/// <summary>Spending metered units, exactly once per Idempotency-Key.</summary>
public static class UsageApi
{
    public static RouteGroupBuilder MapUsageApi(this RouteGroupBuilder runtime)
    {
        runtime.MapPost("/usage/consume", Consume)
            .AcceptsJson<RequestBodies.ConsumeRequest>()
            .WithRequestHeader("Idempotency-Key", required: true, "1 to 255 printable ASCII characters; a retry with the same key and body gets the first answer").Produces<ConsumeResponse>()
            .ProducesProblems(400, 409, 413, 415);
        return runtime;
    }

    private static async Task<IResult> Consume(
        HttpRequest request, UsageQueue usage, LicenzyMetrics metrics, CancellationToken ct)
    {
        var caller = request.HttpContext.Caller();
        var (body, subjectRef, error) = await RuntimeRequests.ReadAsync(request, ct);
        if (error is not null) return error.ToResult();
        if (body!.Element("units") is not { ValueKind: JsonValueKind.Number } units
            || !units.TryGetInt64(out var count) || count is < 1 or > UsageLedger.MaxUnitsPerRequest)
        {
            return new ApiError(400, "invalid_units", "Invalid units",
                $"units must be a whole number from 1 to {UsageLedger.MaxUnitsPerRequest:N0}.").ToResult();
        }
        var (key, keyError) = IdempotencyKeyHeader.Read(request);
        if (keyError is not null) return keyError.ToResult();
        if (key is null) return ApiError.IdempotencyKeyRequired().ToResult();

        var subject = new SubjectKey(caller.TenantId, caller.Mode, subjectRef!);
        var result = await usage.ConsumeAsync(subject, new ConsumeUnits(count, key, IdempotentResponse.HashOf(subjectRef, count.ToString())));
        if (result.KeyReused) return ApiError.IdempotencyKeyReused().ToResult();
        metrics.Consumed(result.Replayed ? "replayed" : result.Response.Status == StatusCodes.Status200OK ? "consumed" : "insufficient_usage");
        return result.Response.ToResult(result.Replayed);
    }
}

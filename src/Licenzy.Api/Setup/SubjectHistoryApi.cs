using System.Globalization;
using Licenzy.Api.Http;
using Licenzy.Api.Subjects;
using Licenzy.Infrastructure.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Licenzy.Api.Setup;

/// <summary>A subject's history: every change to it, oldest first, a page at a time (decision 019).</summary>
public static class SubjectHistoryApi
{
    /// <summary>Maps the route on the per-mode group, whose filter has already checked tenant and mode.</summary>
    public static RouteGroupBuilder MapSubjectHistoryApi(this RouteGroupBuilder mode)
    {
        mode.MapGet("/subjects/{subject_ref}/history", ReadHistory)
            .WithQueryParameter("after_version", required: false, "the entries after this version (default 0: from the first)", minimum: 0, maximum: long.MaxValue)
            .WithQueryParameter("limit", required: false, "entries in one answer (default 100)", minimum: 1, maximum: 500);
        return mode;
    }

    /// <summary>
    /// The page of entries after <c>next_after_version</c> of the page before; <c>has_more</c> says
    /// whether another follows. Members beyond <c>subject_ref</c> and <c>events</c> are Licenzy's own
    /// (docs/api-notes.md).
    /// </summary>
    public sealed record HistoryResponse(string SubjectRef, IReadOnlyList<HistoryEntry> Events, bool HasMore, long? NextAfterVersion);

    private static async Task<Results<Ok<HistoryResponse>, ProblemHttpResult>> ReadHistory(
        string tenant_id, string mode, string subject_ref, HttpRequest request, SubjectHistory history, CancellationToken ct)
    {
        if (RuntimeRequests.CheckPathSubject(subject_ref) is { } invalid) return invalid.ToResult();
        var errors = new Dictionary<string, string[]>();
        var after = QueryNumber(request, "after_version", 0, long.MaxValue, 0, errors);
        var limit = QueryNumber(request, "limit", 1, SubjectHistory.MaxLimit, SubjectHistory.DefaultLimit, errors);
        if (errors.Count > 0)
            return ApiError.InvalidRequest(string.Join(" ", errors.Select(error => $"{error.Key} {error.Value[0]}.")), errors).ToResult();

        var page = await history.ReadAsync(new SubjectKey(tenant_id, SetupApi.ModeOf(mode), subject_ref), after, (int)limit, ct);
        return TypedResults.Ok(new HistoryResponse(subject_ref, page.Entries, page.HasMore, page.HasMore ? page.Through : null));
    }

    /// <summary>An optional whole-number query parameter in [min, max]; anything else is noted in <paramref name="errors"/>.</summary>
    private static long QueryNumber(HttpRequest request, string name, long min, long max, long fallback, Dictionary<string, string[]> errors)
    {
        if (!request.Query.TryGetValue(name, out var values)) return fallback;
        if (values.Count == 1 && long.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            return value;
        errors[name] = [$"must be one whole number from {min} to {max}"];
        return fallback;
    }
}

using Licenzy.Infrastructure.Http;
using Licenzy.Api.Http;
using Licenzy.Domain.Licenses;
using Licenzy.Domain.Subjects;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Licenzy.Api.Licenses;

/// <summary>License keys for the tenant's app: validate a key, list a subject's licenses, read one.</summary>
public static class LicensesApi
{
    /// <summary>Longer than any key Licenzy makes; a longer one is a mistake worth saying, not a lookup.</summary>
    public const int MaxKeyLength = 256;

    public static RouteGroupBuilder MapLicensesApi(this RouteGroupBuilder runtime)
    {
        runtime.MapPost("/licenses/validate", Validate)
            .AcceptsJson<RequestBodies.ValidateLicenseRequest>().ProducesProblems(400, 413, 415);
        runtime.MapGet("/licenses", List).WithQueryParameter("subject_ref", required: true, "the subject whose licenses to list").ProducesProblems(400);
        runtime.MapGet("/licenses/{id}", Get).ProducesProblems(404);
        return runtime;
    }

    public sealed record ValidateResponse(bool Valid, string Code, LicenseResponse? License, DateTimeOffset AsOf);

    private static async ValueTask<Results<Ok<ValidateResponse>, ProblemHttpResult>> Validate(
        HttpRequest request, LicenseReader licenses, TimeProvider clock, CancellationToken ct)
    {
        var caller = request.HttpContext.Caller();
        var (body, error) = await JsonBody.ReadAsync(request, JsonBody.RuntimeLimit, ct);
        if (error is not null) return error.ToResult();
        if (body!.Has("mode")) return ApiError.ModeNotAllowed().ToResult();
        var key = body.String("key", required: true, maxLength: MaxKeyLength);
        var feature = body.String("feature", required: false, maxLength: 64);
        if (body.HasErrors) return body.ValidationError().ToResult();

        var now = clock.GetUtcNow();
        var found = await licenses.FindByKeyAsync(caller, key!, ct);
        if (found is null) return TypedResults.Ok(new ValidateResponse(false, "not_found", null, now));

        // The caller sent the key, so it is answered as sent: no decryption on this path.
        var license = LicenseResponse.Of(found.License, found.Subject, key!, now);
        var code = license.Valid
            ? feature is not null && !license.Policy.Features.Contains(feature) ? "feature_not_entitled" : "valid"
            : license.Status;
        return TypedResults.Ok(new ValidateResponse(code == "valid", code, license, now));
    }

    public sealed record LicensesResponse(IReadOnlyList<LicenseResponse> Licenses);

    private static async Task<Results<Ok<LicensesResponse>, ProblemHttpResult>> List(
        HttpContext http, LicenseReader licenses, LicenseKeys keys, TimeProvider clock, CancellationToken ct)
    {
        var caller = http.Caller();
        var subjectRef = http.Request.Query["subject_ref"];
        if (subjectRef.Count != 1 || !SubjectRef.IsValid(subjectRef[0])) return ApiError.InvalidSubjectRef().ToResult();

        var state = await licenses.SubjectAsync(caller, subjectRef[0]!, ct);
        var now = clock.GetUtcNow();
        var listed = (state?.Licenses ?? []).Where(l => l.HasKey)
            .Select(l => LicenseResponse.Of(l, state!, keys.Reveal(l.ProtectedKey!), now)).ToList();
        return TypedResults.Ok(new LicensesResponse(listed));
    }

    private static async Task<Results<Ok<LicenseResponse>, ProblemHttpResult>> Get(
        HttpContext http, string id, LicenseReader licenses, LicenseKeys keys, TimeProvider clock, CancellationToken ct)
    {
        var caller = http.Caller();
        var found = IsLicenseId(id) ? await licenses.FindByIdAsync(caller, id, ct) : null;
        if (found is null || !found.License.HasKey)
            return new ApiError(404, "license_not_found", "License not found", $"No license '{Shown(id)}' in this tenant and mode.").ToResult();
        return TypedResults.Ok(LicenseResponse.Of(found.License, found.Subject, keys.Reveal(found.License.ProtectedKey!), clock.GetUtcNow()));
    }

    /// <summary><c>lic_</c> and 24 lower-case hex digits, as <see cref="License.IdFor"/> makes them.</summary>
    private static bool IsLicenseId(string id) =>
        id.Length == 28 && id.StartsWith("lic_", StringComparison.Ordinal) && id.AsSpan(4).ContainsAnyExcept("0123456789abcdef") is false;

    /// <summary>An id echoed back only when it is short and plain, so a detail never carries odd input.</summary>
    private static string Shown(string id) => id.Length <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? id : "(that id)";
}

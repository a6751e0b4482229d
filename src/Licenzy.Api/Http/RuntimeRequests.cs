using System.Text.Json;
using Licenzy.Domain.Subjects;

namespace Licenzy.Api.Http;

/// <summary>The checks every runtime body gets before its own fields.</summary>
public static class RuntimeRequests
{
    /// <summary>Reads a runtime body, refusing <c>mode</c> (the key selects it) and checking subject_ref.</summary>
    public static async ValueTask<(JsonBody? Body, string? SubjectRef, ApiError? Error)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(request, JsonBody.RuntimeLimit, ct);
        if (error is not null) return (null, null, error);
        if (body!.Has("mode")) return (null, null, ApiError.ModeNotAllowed());
        var subjectRef = body.Element("subject_ref") is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
        if (!SubjectRef.IsValid(subjectRef)) return (null, null, ApiError.InvalidSubjectRef());
        return (body, subjectRef, null);
    }

    /// <summary>A subject_ref in a path is held to the same rule.</summary>
    public static ApiError? CheckPathSubject(string subjectRef) => SubjectRef.IsValid(subjectRef) ? null : ApiError.InvalidSubjectRef();
}

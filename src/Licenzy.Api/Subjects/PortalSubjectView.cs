using System.Text.Json;
using Licenzy.Api.Access;
using Licenzy.Api.Licenses;
using Licenzy.Domain;
using Licenzy.Domain.Subjects;
using Licenzy.Infrastructure;
using Licenzy.Portal;

namespace Licenzy.Api.Subjects;

/// <summary>The portal's subject view: the same reads and shapes as <c>GET /v1/entitlements</c> and <c>GET /v1/licenses</c>.</summary>
public sealed class PortalSubjectView(SubjectReader subjects, LicenseKeys keys, TimeProvider clock) : ISubjectView
{
    private sealed record View(
        string SubjectRef, long Version, DateTimeOffset AsOf, IReadOnlyList<AccessApi.EntitlementResponse> Entitlements, IReadOnlyList<LicenseResponse> Licenses);

    public async Task<JsonElement?> DescribeAsync(string tenantId, string mode, string subjectRef, CancellationToken ct)
    {
        if (!Modes.TryParse(mode, out var parsed) || !SubjectRef.IsValid(subjectRef)) return null;
        var state = await subjects.GetAsync(new SubjectKey(tenantId, parsed, subjectRef), ct);
        var now = clock.GetUtcNow();
        var licenses = state is null ? [] : state.Licenses.Where(l => l.HasKey)
            .Select(l => LicenseResponse.Of(l, state, Masked(keys.Reveal(l.ProtectedKey!)), now)).ToList();
        var view = new View(subjectRef, state?.Version ?? 0, now,
            (state?.Entitlements ?? []).Select(e => AccessApi.Describe(e, now)).ToList(), licenses);
        return JsonSerializer.SerializeToElement(view, LicenzyJson.Options);
    }

    /// <summary>The last four characters: enough to tell keys apart on a screen, not enough to use one.</summary>
    private static string Masked(string key) => key.Length > 4 ? "…" + key[^4..] : "…";
}

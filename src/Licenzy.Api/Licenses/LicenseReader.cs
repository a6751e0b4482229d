using Licenzy.Api.Http;
using Licenzy.Api.Reads;
using Licenzy.Api.Subjects;
using Licenzy.Domain;
using Licenzy.Domain.Licenses;
using Licenzy.Domain.Subjects;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Licenses;

/// <summary>Which subject holds a license; written with the license, never changed.</summary>
public sealed record LicenseHolder(string SubjectRef, string LicenseId);

/// <summary>A license found, with the subject document it lives in (shared: do not change it).</summary>
public sealed record FoundLicense(License License, SubjectState Subject);

/// <summary>
/// Finds licenses for the runtime API: by key (through the key-hash index), by id (through the
/// id index) or by subject. Every lookup is under the caller's tenant and mode, so one tenant's
/// key never reaches another's license.
/// </summary>
public sealed class LicenseReader(IStateStoreFactory stores, SubjectReader subjects, ReadCaches caches)
{
    private readonly IStateStore _state = stores.Get(Components.StateStore);

    public async ValueTask<FoundLicense?> FindByKeyAsync(RuntimeCaller caller, string key, CancellationToken ct)
    {
        var hash = LicenseKeys.Hash(key);
        var found = await FindAsync(caller, StateKeys.LicenseByKeyHash(caller.TenantId, caller.Mode, hash), ct);
        // The index is written with the license; the hash check only guards against a mixed-up index.
        return found is not null && found.License.KeyHash == hash ? found : null;
    }

    public ValueTask<FoundLicense?> FindByIdAsync(RuntimeCaller caller, string licenseId, CancellationToken ct) =>
        FindAsync(caller, StateKeys.License(caller.TenantId, caller.Mode, licenseId), ct);

    /// <summary>The subject document (null when the subject has none), for listing its licenses.</summary>
    public ValueTask<SubjectState?> SubjectAsync(RuntimeCaller caller, string subjectRef, CancellationToken ct) =>
        subjects.GetAsync(new SubjectKey(caller.TenantId, caller.Mode, subjectRef), ct);

    private async ValueTask<FoundLicense?> FindAsync(RuntimeCaller caller, string holderKey, CancellationToken ct)
    {
        var holder = caches.LicenseHolders is { } cache
            ? await cache.GetAsync(holderKey, LoadAsync, ct)
            : await LoadAsync(holderKey, ct);
        if (holder is null) return null;
        var state = await SubjectAsync(caller, holder.SubjectRef, ct);
        return state?.FindLicense(holder.LicenseId) is { } license ? new FoundLicense(license, state) : null;
    }

    private async Task<LicenseHolder?> LoadAsync(string key, CancellationToken ct) => (await _state.GetAsync<LicenseHolder>(key, ct))?.Value;
}

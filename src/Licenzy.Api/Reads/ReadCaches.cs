using Licenzy.Api.Licenses;
using Licenzy.Api.Setup;
using Licenzy.Api.Webhooks;
using Licenzy.Domain.Subjects;
using Licenzy.Infrastructure;
using Microsoft.Extensions.Options;

namespace Licenzy.Api.Reads;

/// <summary>
/// The hot path's caches: subject documents (access checks and views), runtime keys (every
/// runtime call) and who holds each license key (license validation). Both are filled by reads and emptied by this process's own writes, so they
/// are on only with the embedded binding, where this process is the writer; with Dapr, actors
/// and setup calls may run in another replica, and every read goes to the sidecar.
/// </summary>
public sealed class ReadCaches
{
    /// <summary>Runtime keys in use at once are few; this only bounds memory.</summary>
    private const int ApiKeyCapacity = 10_000;

    /// <summary>Tenants' endpoint lists kept at most (one per tenant and mode).</summary>
    private const int WebhookEndpointCapacity = 10_000;

    /// <summary>License holders kept at most; each is a few strings.</summary>
    private const int LicenseHolderCapacity = 100_000;

    public ReadCaches(IOptions<ApiOptions> options, IConfiguration configuration)
    {
        var capacity = options.Value.ReadCacheCapacity;
        // A holder record is written once, with its license, and never changes or goes away, so it
        // may be kept whichever process wrote it, on either binding. Unknown keys are not kept.
        if (capacity > 0) LicenseHolders = new ReadCache<LicenseHolder>(LicenseHolderCapacity, cacheMissing: false);
        if (capacity <= 0 || !ComponentsRegistration.ProcessIsTheOnlyWriter(configuration)) return;
        // Unknown subjects are cached too: "no access" is the commonest answer for free users.
        Subjects = new ReadCache<SubjectState>(capacity, cacheMissing: true);
        // Unknown keys are not, so random keys cannot fill the cache.
        ApiKeys = new ReadCache<ApiKeyRecord>(ApiKeyCapacity, cacheMissing: false);
        // Every subject write asks which webhook endpoints its tenant has; most tenants have none,
        // and that answer is kept too. Only tenants and modes that exist are ever asked about.
        WebhookEndpoints = new ReadCache<WebhookEndpointList>(WebhookEndpointCapacity, cacheMissing: true);
    }

    public ReadCache<SubjectState>? Subjects { get; }

    public ReadCache<ApiKeyRecord>? ApiKeys { get; }

    public ReadCache<LicenseHolder>? LicenseHolders { get; }

    public ReadCache<WebhookEndpointList>? WebhookEndpoints { get; }
}

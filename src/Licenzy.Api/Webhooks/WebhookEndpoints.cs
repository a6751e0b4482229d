using System.Security.Cryptography;
using Licenzy.Api.Reads;
using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Microsoft.AspNetCore.DataProtection;

namespace Licenzy.Api.Webhooks;

/// <summary>
/// One endpoint as stored: its signing secrets only in protected form. After a rotation the
/// previous secret signs too, until <see cref="PreviousSecretExpiresAt"/>.
/// </summary>
public sealed record WebhookEndpoint(string Id, string Url, IReadOnlyList<string> Events, string ProtectedSecret,
    string? ProtectedPreviousSecret, DateTimeOffset? PreviousSecretExpiresAt, DateTimeOffset CreatedAt)
{
    public bool Wants(string type) => Events.Contains(type, StringComparer.Ordinal);
}

/// <summary>A tenant's endpoints for one mode: one document, as a tenant has only a few.</summary>
public sealed record WebhookEndpointList(IReadOnlyList<WebhookEndpoint> Endpoints)
{
    public static readonly WebhookEndpointList Empty = new([]);
}

/// <summary>What the setup API shows of an endpoint: never its secret.</summary>
public sealed record WebhookEndpointView(string Id, string Url, IReadOnlyList<string> Events, DateTimeOffset CreatedAt)
{
    public static WebhookEndpointView Of(WebhookEndpoint endpoint) => new(endpoint.Id, endpoint.Url, endpoint.Events, endpoint.CreatedAt);
}

/// <summary>The answer to creating an endpoint: the only time its secret is shown.</summary>
public sealed record CreatedWebhookEndpoint(string Id, string Url, IReadOnlyList<string> Events, string Secret, DateTimeOffset CreatedAt);

/// <summary>
/// Tenants' outbound webhook endpoints, in the state store. Secrets are protected at rest with Data
/// Protection, as Stripe secrets are; every change is an ETag-checked write of the tenant's list.
/// </summary>
public sealed class WebhookEndpoints(IStateStoreFactory stores, IDataProtectionProvider protection, ReadCaches caches, TimeProvider clock)
{
    public const string ProtectionPurpose = "Licenzy.WebhookEndpoint.Secret";

    /// <summary>After a rotation the previous secret still signs for this long, so a receiver can switch without losing messages.</summary>
    public static readonly TimeSpan RotationOverlap = TimeSpan.FromHours(24);

    /// <summary>A tenant has a few endpoints; a cap keeps every message's fan-out small.</summary>
    public const int MaxPerMode = 16;

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private readonly IStateStore _state = stores.Get(Components.StateStore);
    private readonly IDataProtector _protector = protection.CreateProtector(ProtectionPurpose);

    /// <summary>Adds an endpoint; null when the tenant already has <see cref="MaxPerMode"/>.</summary>
    public async Task<CreatedWebhookEndpoint?> CreateAsync(string tenantId, Mode mode, string url, IReadOnlyList<string> events,
        CancellationToken ct)
    {
        var secret = WebhookSignature.NewSecret();
        var endpoint = new WebhookEndpoint("we_" + RandomNumberGenerator.GetString(Alphabet, 20), url, events, _protector.Protect(secret),
            null, null, clock.GetUtcNow());
        var added = await ChangeAsync(tenantId, mode, list =>
            list.Endpoints.Count >= MaxPerMode ? null : new WebhookEndpointList([.. list.Endpoints, endpoint]), ct);
        return added ? new CreatedWebhookEndpoint(endpoint.Id, endpoint.Url, endpoint.Events, secret, endpoint.CreatedAt) : null;
    }

    /// <summary>
    /// The tenant's endpoints for the mode: asked at every subject write, so through the read cache
    /// where this process is the only writer (every change below brackets its write for it).
    /// </summary>
    public async Task<IReadOnlyList<WebhookEndpoint>> ListAsync(string tenantId, Mode mode, CancellationToken ct)
    {
        var key = StateKeys.WebhookEndpoints(tenantId, mode);
        var list = caches.WebhookEndpoints is { } cache ? await cache.GetAsync(key, LoadAsync, ct) : await LoadAsync(key, ct);
        return list?.Endpoints ?? [];
    }

    private async Task<WebhookEndpointList?> LoadAsync(string key, CancellationToken ct) => (await _state.GetAsync<WebhookEndpointList>(key, ct))?.Value;

    public async Task<WebhookEndpoint?> FindAsync(string tenantId, Mode mode, string endpointId, CancellationToken ct) =>
        (await ListAsync(tenantId, mode, ct)).FirstOrDefault(e => e.Id == endpointId);

    /// <summary>False when there is no such endpoint.</summary>
    public Task<bool> DeleteAsync(string tenantId, Mode mode, string endpointId, CancellationToken ct) =>
        ChangeAsync(tenantId, mode, list => list.Endpoints.Any(e => e.Id == endpointId)
            ? new WebhookEndpointList([.. list.Endpoints.Where(e => e.Id != endpointId)])
            : null, ct);

    /// <summary>A new secret for the endpoint (null when there is no such endpoint); the current one keeps signing for <see cref="RotationOverlap"/>.</summary>
    public async Task<string?> RotateSecretAsync(string tenantId, Mode mode, string endpointId, CancellationToken ct)
    {
        var secret = WebhookSignature.NewSecret();
        var now = clock.GetUtcNow();
        var rotated = await ChangeAsync(tenantId, mode, list => list.Endpoints.Any(e => e.Id == endpointId)
            ? new WebhookEndpointList([.. list.Endpoints.Select(e => e.Id != endpointId ? e : e with
            {
                ProtectedSecret = _protector.Protect(secret),
                ProtectedPreviousSecret = e.ProtectedSecret,
                PreviousSecretExpiresAt = now + RotationOverlap,
            })])
            : null, ct);
        return rotated ? secret : null;
    }

    /// <summary>The secrets that sign a message sent now: the current one, and the previous one during its overlap.</summary>
    public IReadOnlyList<string> SigningSecrets(WebhookEndpoint endpoint)
    {
        var current = _protector.Unprotect(endpoint.ProtectedSecret);
        return endpoint is { ProtectedPreviousSecret: { } previous, PreviousSecretExpiresAt: { } until } && clock.GetUtcNow() < until
            ? [current, _protector.Unprotect(previous)]
            : [current];
    }

    /// <summary>Applies <paramref name="change"/> to the stored list until the write is not overtaken; false when it returns null.</summary>
    private async Task<bool> ChangeAsync(string tenantId, Mode mode, Func<WebhookEndpointList, WebhookEndpointList?> change, CancellationToken ct)
    {
        var key = StateKeys.WebhookEndpoints(tenantId, mode);
        while (true)
        {
            var stored = await _state.GetAsync<WebhookEndpointList>(key, ct);
            var changed = change(stored?.Value ?? WebhookEndpointList.Empty);
            if (changed is null) return false;
            using var writing = caches.WebhookEndpoints?.BeginWrite(key);
            if (await _state.TrySaveAsync(key, changed, stored?.ETag, ct)) return true;
        }
    }
}

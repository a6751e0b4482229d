using System.Security.Cryptography;
using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Microsoft.AspNetCore.DataProtection;

namespace Licenzy.Api.Setup;

/// <summary>Tenants and their Stripe connections (secrets protected at rest).</summary>
public sealed class Tenants(IStateStoreFactory stores, IDataProtectionProvider protection, TimeProvider clock)
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    private readonly IStateStore _state = stores.Get(Components.StateStore);
    private readonly IDataProtector _protector = protection.CreateProtector(StripeConnection.ProtectionPurpose);

    /// <summary>Makes a tenant and adds it to the list in one transaction, so the list never misses one.</summary>
    public async Task<Tenant> CreateAsync(string name, CancellationToken ct)
    {
        while (true)
        {
            var tenant = new Tenant("ten_" + RandomNumberGenerator.GetString(Alphabet, 16), name, clock.GetUtcNow());
            var list = await _state.GetAsync<TenantList>(StateKeys.TenantList, ct);
            var written = await _state.TryTransactAsync(
            [
                new StateOperation.Upsert(StateKeys.Tenant(tenant.TenantId), tenant, MustNotExist: true),
                new StateOperation.Upsert(StateKeys.TenantList, new TenantList([.. list?.Value.Tenants ?? [], tenant]), list?.ETag,
                    MustNotExist: list is null),
            ], ct);
            if (written) return tenant;
        }
    }

    /// <summary>
    /// Every tenant, oldest first. The list holds those made since it was kept; a store that can be
    /// scanned (the embedded one) also yields those an older version made before it.
    /// </summary>
    public async Task<IReadOnlyList<Tenant>> ListAsync(CancellationToken ct)
    {
        var listed = (await _state.GetAsync<TenantList>(StateKeys.TenantList, ct))?.Value.Tenants ?? [];
        if (_state is not IStateScanner scanner) return listed;
        var inList = listed.Select(t => t.TenantId).ToHashSet(StringComparer.Ordinal);
        var older = new List<Tenant>();
        await foreach (var page in scanner.ScanAsync(StateKeys.TenantPrefix, 500, ct))
            foreach (var (_, json) in page)
            {
                var tenant = System.Text.Json.JsonSerializer.Deserialize<Tenant>(json, LicenzyJson.Options)!;
                if (!inList.Contains(tenant.TenantId)) older.Add(tenant);
            }
        return [.. older.OrderBy(t => t.CreatedAt), .. listed];
    }

    public async Task<bool> ExistsAsync(string tenantId, CancellationToken ct) =>
        await _state.GetAsync<Tenant>(StateKeys.Tenant(tenantId), ct) is not null;

    /// <summary>
    /// Stores the Stripe connection. A webhook secret that differs from the stored one rolls it:
    /// the stored one stays accepted for <see cref="StripeConnection.RollingWindow"/>. The same
    /// secret again rolls nothing and keeps the window of an earlier roll as it was.
    /// </summary>
    /// <param name="webhookEndpointId">The Stripe endpoint Licenzy registered and whose secret this is; null for a secret the operator gave.</param>
    public async Task ConnectStripeAsync(string tenantId, Mode mode, string secretKey, string webhookSecret, string? webhookEndpointId, CancellationToken ct)
    {
        var key = StateKeys.StripeConnection(tenantId, mode);
        while (true)
        {
            var stored = await _state.GetAsync<StripeConnection>(key, ct);
            var now = clock.GetUtcNow();
            var connection = new StripeConnection(_protector.Protect(secretKey), _protector.Protect(webhookSecret), now)
            {
                WebhookEndpointId = webhookEndpointId,
            };
            if (stored?.Value is { } before)
            {
                if (!string.Equals(_protector.Unprotect(before.ProtectedWebhookSecret), webhookSecret, StringComparison.Ordinal))
                {
                    connection = connection with { ProtectedPreviousWebhookSecret = before.ProtectedWebhookSecret, PreviousWebhookSecretUntil = now + StripeConnection.RollingWindow };
                }
                else if (before.PreviousSecretAcceptedAt(now))
                {
                    connection = connection with { ProtectedPreviousWebhookSecret = before.ProtectedPreviousWebhookSecret, PreviousWebhookSecretUntil = before.PreviousWebhookSecretUntil };
                }
            }

            // ETag-checked, so that two rolls at once cannot both keep the same "previous" and lose one secret.
            if (await _state.TrySaveAsync(key, connection, stored?.ETag, ct)) return;
        }
    }

    /// <summary>The endpoint Licenzy registered with Stripe for the tenant and mode, and its secret; null when it registered none.</summary>
    public async Task<RegisteredWebhookEndpoint?> RegisteredWebhookEndpointAsync(string tenantId, Mode mode, CancellationToken ct)
    {
        var connection = await _state.GetAsync<StripeConnection>(StateKeys.StripeConnection(tenantId, mode), ct);
        return connection?.Value is { WebhookEndpointId: { } id } stored
            ? new RegisteredWebhookEndpoint(id, _protector.Unprotect(stored.ProtectedWebhookSecret))
            : null;
    }

    /// <summary>The tenant's Stripe secret key for the mode, or null when Stripe is not connected.</summary>
    public async Task<string?> StripeSecretKeyAsync(string tenantId, Mode mode, CancellationToken ct)
    {
        var connection = await _state.GetAsync<StripeConnection>(StateKeys.StripeConnection(tenantId, mode), ct);
        return connection is null ? null : _protector.Unprotect(connection.Value.ProtectedSecretKey);
    }
}

/// <summary>The tenants of the deployment, as stored.</summary>
public sealed record TenantList(List<Tenant> Tenants);

/// <summary>A Stripe webhook endpoint Licenzy made for a tenant and mode, with the signing secret Stripe gave when it was made.</summary>
public sealed record RegisteredWebhookEndpoint(string Id, string WebhookSecret);

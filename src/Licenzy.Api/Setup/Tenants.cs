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

    public async Task<Tenant> CreateAsync(string name, CancellationToken ct)
    {
        while (true)
        {
            var tenant = new Tenant("ten_" + RandomNumberGenerator.GetString(Alphabet, 16), name, clock.GetUtcNow());
            if (await _state.TrySaveAsync(StateKeys.Tenant(tenant.TenantId), tenant, etag: null, ct)) return tenant;
        }
    }

    public async Task<bool> ExistsAsync(string tenantId, CancellationToken ct) =>
        await _state.GetAsync<Tenant>(StateKeys.Tenant(tenantId), ct) is not null;

    public Task ConnectStripeAsync(string tenantId, Mode mode, string secretKey, string webhookSecret, CancellationToken ct) =>
        _state.SaveAsync(StateKeys.StripeConnection(tenantId, mode),
            new StripeConnection(_protector.Protect(secretKey), _protector.Protect(webhookSecret), clock.GetUtcNow()), ct);

    /// <summary>The tenant's Stripe secret key for the mode, or null when Stripe is not connected.</summary>
    public async Task<string?> StripeSecretKeyAsync(string tenantId, Mode mode, CancellationToken ct)
    {
        var connection = await _state.GetAsync<StripeConnection>(StateKeys.StripeConnection(tenantId, mode), ct);
        return connection is null ? null : _protector.Unprotect(connection.Value.ProtectedSecretKey);
    }
}

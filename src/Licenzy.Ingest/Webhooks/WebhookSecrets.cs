using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Microsoft.AspNetCore.DataProtection;

namespace Licenzy.Ingest.Webhooks;

/// <summary>
/// Finds the webhook signing secrets that the setup API stored (protected) for a tenant and mode:
/// the current one, and the one it replaced while that is within its rolling window.
/// </summary>
public sealed class WebhookSecrets(IStateStoreFactory stores, IDataProtectionProvider protection, TimeProvider clock)
{
    private readonly IStateStore _state = stores.Get(Components.StateStore);
    private readonly IDataProtector _protector = protection.CreateProtector(StripeConnection.ProtectionPurpose);

    /// <summary>The secrets a signature may be made with now, current first; null when Stripe is not connected.</summary>
    public async Task<IReadOnlyList<string>?> FindAsync(string tenantId, Mode mode, CancellationToken ct)
    {
        var stored = await _state.GetAsync<StripeConnection>(StateKeys.StripeConnection(tenantId, mode), ct);
        if (stored?.Value is not { } connection) return null;
        var current = _protector.Unprotect(connection.ProtectedWebhookSecret);
        return connection.PreviousSecretAcceptedAt(clock.GetUtcNow())
            ? [current, _protector.Unprotect(connection.ProtectedPreviousWebhookSecret!)]
            : [current];
    }
}

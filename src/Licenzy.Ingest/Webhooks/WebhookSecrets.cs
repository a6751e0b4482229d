using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Microsoft.AspNetCore.DataProtection;

namespace Licenzy.Ingest.Webhooks;

/// <summary>Finds the webhook signing secret that the setup API stored (protected) for a tenant and mode.</summary>
public sealed class WebhookSecrets(IStateStoreFactory stores, IDataProtectionProvider protection)
{
    private readonly IStateStore _state = stores.Get(Components.StateStore);
    private readonly IDataProtector _protector = protection.CreateProtector(StripeConnection.ProtectionPurpose);

    public async Task<string?> FindAsync(string tenantId, Mode mode, CancellationToken ct)
    {
        var connection = await _state.GetAsync<StripeConnection>(StateKeys.StripeConnection(tenantId, mode), ct);
        return connection is null ? null : _protector.Unprotect(connection.Value.ProtectedWebhookSecret);
    }
}

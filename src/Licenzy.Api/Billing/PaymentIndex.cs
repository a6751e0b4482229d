using Licenzy.Domain;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Billing;

/// <summary>The subject, product and subscription a payment intent paid for.</summary>
public sealed record PaymentOwner(string SubjectRef, string ProductCode, string? SubscriptionId);

/// <summary>
/// Charges and disputes name only a payment intent; Stripe does not promise to copy the
/// metadata Licenzy put on the payment intent or subscription onto them. So whenever an event
/// shows whose a payment intent is (a checkout, an invoice), Licenzy remembers it here.
/// </summary>
public sealed class PaymentIndex(IStateStoreFactory stores)
{
    private readonly IStateStore _state = stores.Get(Components.StateStore);

    public Task RecordAsync(string tenantId, Mode mode, string paymentIntentId, PaymentOwner owner, CancellationToken ct) =>
        _state.SaveAsync(StateKeys.Payment(tenantId, mode, paymentIntentId), owner, ct);

    public async Task<PaymentOwner?> FindAsync(string tenantId, Mode mode, string paymentIntentId, CancellationToken ct) =>
        (await _state.GetAsync<PaymentOwner>(StateKeys.Payment(tenantId, mode, paymentIntentId), ct))?.Value;
}

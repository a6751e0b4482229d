using Licenzy.Domain;
using Licenzy.Stripe;

namespace Licenzy.Api.Setup;

/// <summary>
/// Licenzy's own Stripe webhook endpoint for a tenant and mode, as Licentric registers its own.
/// Stripe shows an endpoint's signing secret only in the answer that creates it, so the endpoint
/// made once is reused by its stored id while Stripe still has it (and its stored secret with it);
/// a new one is made only when there is none, or Stripe no longer has it (deleted in the dashboard,
/// or the key now belongs to another account).
/// </summary>
public sealed class StripeWebhookRegistration(Tenants tenants, IStripeClient stripe)
{
    /// <summary>The endpoint to keep: the stored one if Stripe still has it, else one made now at <paramref name="webhookUrl"/>.</summary>
    /// <exception cref="StripeException">Stripe refused or did not answer; nothing was stored.</exception>
    public async Task<RegisteredWebhookEndpoint> EnsureAsync(string tenantId, Mode mode, string secretKey, string webhookUrl, CancellationToken ct)
    {
        if (await tenants.RegisteredWebhookEndpointAsync(tenantId, mode, ct) is { } registered
            && await stripe.FindWebhookEndpointAsync(secretKey, registered.Id, ct) is not null)
        {
            return registered;
        }

        // Every type the translator acts on, from the one list of them, so that a type added there is also asked for here.
        var created = await stripe.CreateWebhookEndpointAsync(secretKey, webhookUrl, StripeEventTypes.HandledInOrder, ct);
        return created.Secret is { Length: > 0 } secret
            ? new RegisteredWebhookEndpoint(created.Id, secret)
            : throw new StripePayloadException("Stripe created a webhook endpoint but sent no signing secret with it");
    }
}

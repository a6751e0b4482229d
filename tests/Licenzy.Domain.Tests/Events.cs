using Licenzy.Domain.Billing;
using Licenzy.Domain.Entitlements;
using Licenzy.Domain.Products;

namespace Licenzy.Domain.Tests;

/// <summary>Billing events about one subscription or one-time product, with readable defaults.</summary>
internal sealed class Events(Product product, string subscriptionId = "sub_1")
{
    private int _next;

    public string Id() => $"evt_{++_next}";

    public CheckoutCompleted Checkout(DateTimeOffset at, string session = "cs_1", CheckoutPayment payment = CheckoutPayment.Paid, string? paymentIntent = null,
        string? email = "buyer@example.com") => new()
    {
        EventId = Id(), OccurredAt = at, Product = product, CheckoutSessionId = session, Payment = payment, CustomerEmail = email,
        SubscriptionId = product.Kind == ProductKind.Subscription ? subscriptionId : null,
        PaymentIntentId = paymentIntent ?? (product.Kind == ProductKind.Subscription ? null : "pi_" + session),
    };

    public SubscriptionChanged Subscription(DateTimeOffset at, SubscriptionStatus status, DateTimeOffset? periodEnd = null, DateTimeOffset? endedAt = null) => new()
    {
        EventId = Id(), OccurredAt = at, Product = product, SubscriptionId = subscriptionId, Status = status, PeriodEnd = periodEnd, EndedAt = endedAt,
    };

    public SubscriptionDeleted Deleted(DateTimeOffset at) => new()
    {
        EventId = Id(), OccurredAt = at, Product = product, SubscriptionId = subscriptionId, EndedAt = at,
    };

    public InvoicePaid Paid(DateTimeOffset at, DateTimeOffset? periodEnd = null) => new()
    {
        EventId = Id(), OccurredAt = at, Product = product, SubscriptionId = subscriptionId, PeriodEnd = periodEnd,
    };

    public InvoicePaymentFailed Failed(DateTimeOffset at) => new()
    {
        EventId = Id(), OccurredAt = at, Product = product, SubscriptionId = subscriptionId,
    };

    public ChargeRefunded Refunded(DateTimeOffset at, string paymentIntent, bool full = true) => new()
    {
        EventId = Id(), OccurredAt = at, Product = product, SubscriptionId = SubscriptionIdOrNull, PaymentIntentId = paymentIntent, FullyRefunded = full,
    };

    public DisputeOpened DisputeOpened(DateTimeOffset at, string paymentIntent, string dispute = "dp_1") => new()
    {
        EventId = Id(), OccurredAt = at, Product = product, SubscriptionId = SubscriptionIdOrNull, PaymentIntentId = paymentIntent, DisputeId = dispute,
    };

    public DisputeClosed DisputeClosed(DateTimeOffset at, string paymentIntent, bool won, string dispute = "dp_1") => new()
    {
        EventId = Id(), OccurredAt = at, Product = product, SubscriptionId = SubscriptionIdOrNull, PaymentIntentId = paymentIntent, DisputeId = dispute, Won = won,
    };

    private string? SubscriptionIdOrNull => product.Kind == ProductKind.Subscription ? subscriptionId : null;
}

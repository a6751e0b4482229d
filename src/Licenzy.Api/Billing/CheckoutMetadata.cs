using Licenzy.Domain;

namespace Licenzy.Api.Billing;

/// <summary>
/// The metadata Licenzy puts on a Checkout Session (and on the subscription or payment intent
/// it creates), so that every later Stripe event leads back to tenant, mode, subject and product.
/// </summary>
public static class CheckoutMetadata
{
    public const string Tenant = "licenzy_tenant";
    public const string Mode = "licenzy_mode";
    public const string Subject = "licenzy_subject";
    public const string Product = "licenzy_product";
    public const string Attempt = "licenzy_attempt";

    /// <summary>A key Licenzy sets: a Stripe object with none is not from a purchase Licenzy started.</summary>
    public static bool IsLicenzys(string key) => key.StartsWith("licenzy_", StringComparison.Ordinal);

    public static IReadOnlyDictionary<string, string> For(string tenantId, Domain.Mode mode, string subjectRef, string productCode, string attemptId) =>
        new Dictionary<string, string>
        {
            [Tenant] = tenantId,
            [Mode] = mode.ToWire(),
            [Subject] = subjectRef,
            [Product] = productCode,
            [Attempt] = attemptId,
        };
}

namespace Licenzy.Api.Http;

/// <summary>
/// The bodies the handlers read by hand (<see cref="JsonBody"/>), as records for the OpenAPI
/// document only: the handlers never bind them, so a rule lives in the handler, not here.
/// </summary>
public static class RequestBodies
{
    public sealed record CheckoutRequest(string SubjectRef, string ProductCode, string? SuccessUrl, string? CancelUrl);
    public sealed record AccessCheckRequest(string SubjectRef, string? Feature);
    public sealed record SubjectRequest(string SubjectRef);
    public sealed record ConsumeRequest(string SubjectRef, long Units);
    public sealed record ValidateLicenseRequest(string Key, string? Feature);

    public sealed record CreateTenantRequest(string Name);
    public sealed record ConnectStripeRequest(string SecretKey, string? WebhookSecret, bool? RegisterWebhook);
    public sealed record CreateProductRequest(
        string Code, string Kind, string StripePriceId, string? Name, IReadOnlyList<string>? Features, long? UsageUnits,
        int? DurationDays, int? GracePeriodDays, int? PaymentFailureGraceDays, bool? IssueLicense);
    public sealed record UpdateProductRequest(
        string? Name, IReadOnlyList<string>? Features, int? GracePeriodDays, int? PaymentFailureGraceDays, bool? IssueLicense, bool? Archived);
    public sealed record CreateApiKeyRequest(string? Name);
    public sealed record CreateWebhookEndpointRequest(string Url, IReadOnlyList<string>? Events);
}

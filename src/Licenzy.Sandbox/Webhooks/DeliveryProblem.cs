using Licenzy.Infrastructure.Http;

namespace Licenzy.Sandbox.Webhooks;

/// <summary>How a delivery that stopped early is told: to an API caller as problem details, to a person on a page.</summary>
public static class DeliveryProblem
{
    public const string Code = "webhook_delivery_failed";

    /// <summary>One sentence on why Licenzy refused, and what usually fixes it.</summary>
    public static string Explain(DeliveryFailure failure)
    {
        var refusal = $"Licenzy's webhook route did not accept {failure.Event.Type} {failure.Event.Id}: {failure.Answer.Summary}.";
        var hint = failure.Answer.Summary switch
        {
            var s when s.Contains("invalid_signature", StringComparison.Ordinal) =>
                " Connect Stripe for the tenant's test mode with the sandbox's webhook secret (Licenzy:Sandbox:WebhookSecret),"
                + " or with register_webhook: true for Licenzy to register its endpoint with the sandbox.",
            var s when s.Contains("webhook_endpoint_unknown", StringComparison.Ordinal) =>
                " Connect Stripe for the tenant's test mode first (PUT /v1/admin/tenants/{tenant_id}/modes/test/stripe).",
            _ when failure.Answer.Status is null => " Is Licenzy reachable at Licenzy:Sandbox:BaseUrl?",
            _ => "",
        };
        return refusal + hint;
    }

    public static string Waiting(DeliveryReport report) =>
        $"{report.Waiting} event(s) wait, starting with that one; they go first with this tenant's next trigger or payment.";

    public static ApiError ToApiError(DeliveryReport report)
    {
        var failure = report.Failure ?? throw new ArgumentException("The report has no failure.", nameof(report));
        return new ApiError(502, Code, "Licenzy did not accept a webhook", $"{Explain(failure)} {Waiting(report)}",
            new Dictionary<string, object?>
            {
                ["delivered"] = report.Delivered.Select(e => new Dictionary<string, string> { ["id"] = e.Id, ["type"] = e.Type }).ToList(),
                ["failed_event"] = new Dictionary<string, object?>
                {
                    ["id"] = failure.Event.Id, ["type"] = failure.Event.Type, ["status"] = failure.Answer.Status,
                },
                ["waiting"] = report.Waiting,
            });
    }
}

namespace Licenzy.Bench.Baseline;

public sealed record BareAnswer(string Status, long Version);

/// <summary>
/// Just enough of Stripe for the setup API: any test key is valid, and a price's type follows its
/// id (<c>price_recurring_*</c> is recurring, anything else one-time).
/// </summary>
public static class StripeStandIn
{
    public static WebApplication MapStripeStandIn(this WebApplication app)
    {
        app.MapGet("/v1/balance", () => Results.Json(new Dictionary<string, object> { ["object"] = "balance", ["livemode"] = false }));
        app.MapGet("/v1/prices/{id}", (string id) =>
        {
            var recurring = id.StartsWith("price_recurring_", StringComparison.Ordinal);
            var price = new Dictionary<string, object?>
            {
                ["id"] = id,
                ["object"] = "price",
                ["active"] = true,
                ["livemode"] = false,
                ["type"] = recurring ? "recurring" : "one_time",
                ["currency"] = "usd",
                ["unit_amount"] = 1900,
                ["product"] = "prod_bench",
                ["recurring"] = recurring ? new Dictionary<string, object> { ["interval"] = "month" } : null,
            };
            return Results.Json(price);
        });
        return app;
    }
}

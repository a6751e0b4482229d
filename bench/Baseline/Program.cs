using Licenzy.Bench.Baseline;

// The yardstick: Kestrel with the standalone app's settings (same SDK, host defaults, logging
// levels, Release), answering a small JSON object. It also plays the few Stripe calls that
// Licenzy's setup API makes, so the bench needs no network.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/bare", () => TypedResults.Ok(new BareAnswer("ok", 1)));
app.MapStripeStandIn();
app.Run();

using Licenzy.Bench.Baseline;

// The yardstick: Kestrel with the standalone app's settings (same SDK, host defaults, logging
// levels, Release), answering a small JSON object. It also plays the few Stripe calls that
// Licenzy's setup API makes, so the bench needs no network.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/bare", () => TypedResults.Ok(new BareAnswer("ok", 1)));
app.MapStripeStandIn();
// An OTLP/HTTP sink, for runs with Licenzy's telemetry on (BENCH_TELEMETRY=1): takes each export
// and answers an empty (valid) protobuf response; GET /otlp counts what came.
long exports = 0;
app.MapPost("/v1/{signal:regex(^(traces|metrics|logs)$)}", async (HttpRequest request) =>
{
    await request.Body.CopyToAsync(Stream.Null);
    Interlocked.Increment(ref exports);
    return Results.Bytes([], "application/x-protobuf");
});
app.MapGet("/otlp", () => TypedResults.Ok(new { exports = Interlocked.Read(ref exports) }));
app.Run();

using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Licenzy.Testing;

namespace Licenzy.Stripe.Tests;

/// <summary>A payload signed by the official stripe npm package, for the cross-check.</summary>
public sealed record SigningCase(string Name, string Payload, string Secret, long Timestamp, string? Scheme = null);

/// <summary>
/// Runs node/sign-headers.js once for every case and keeps the headers the stripe package produced.
/// Missing node or a missing package fails the tests that use this, with a message saying so.
/// </summary>
public sealed class StripeNpmSigner : IAsyncLifetime
{
    private Dictionary<string, string> headers = [];

    public string Header(string caseName) => headers[caseName];

    public async Task InitializeAsync()
    {
        var directory = typeof(StripeNpmSigner).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "StripeNodeDirectory").Value!;
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "stripe")))
        {
            throw new InvalidOperationException(
                $"The stripe npm package is not installed in {directory}. Install Node.js 20+ with npm and rebuild " +
                "(the test build runs `npm ci` there), or run `npm ci` in that folder.");
        }

        var input = new JsonArray(SigningCases.All.Select(c => (JsonNode)new JsonObject
        {
            ["payload"] = c.Payload,
            ["secret"] = c.Secret,
            ["timestamp"] = c.Timestamp,
            ["scheme"] = c.Scheme,
        }).ToArray());
        var output = await NodeScript.RunAsync(directory, "sign-headers.js", input.ToJsonString(),
            "the Stripe signature tests check StripeSignature against the official stripe npm package.");
        var produced = JsonSerializer.Deserialize<string[]>(output)
            ?? throw new InvalidOperationException("sign-headers.js printed no headers.");
        Assert.Equal(SigningCases.All.Count, produced.Length);
        headers = SigningCases.All.Zip(produced).ToDictionary(pair => pair.First.Name, pair => pair.Second);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

public static class SigningCases
{
    public static readonly DateTimeOffset Now = new(2026, 4, 1, 12, 0, 0, TimeSpan.Zero);
    public const string Secret = "whsec_7Nn2Kq9pXbL4vR8sT1yW3zA6cE0gH5jM";
    public const string OtherSecret = "whsec_0000000000000000000000000000000000";

    private static readonly long NowSeconds = Now.ToUnixTimeSeconds();

    private static readonly string EventBody =
        Payload.Event(StripeEventTypes.SubscriptionUpdated, Payload.Read("subscription.updated.json"));

    public static readonly IReadOnlyList<SigningCase> All =
    [
        new("event", EventBody, Secret, NowSeconds),
        new("event_other_secret", EventBody, OtherSecret, NowSeconds),
        new("event_v0", EventBody, Secret, NowSeconds, Scheme: "v0"),
        new("past_299", EventBody, Secret, NowSeconds - 299),
        new("past_300", EventBody, Secret, NowSeconds - 300),
        new("past_301", EventBody, Secret, NowSeconds - 301),
        new("future_299", EventBody, Secret, NowSeconds + 299),
        new("future_301", EventBody, Secret, NowSeconds + 301),
        new("unicode", """{"name":"Zoë 😀 — ünïcödé","note":"line\nbreak"}""", Secret, NowSeconds),
        new("tiny", "{}", "whsec_x", 1),
        new("crlf", "{\r\n  \"id\": \"evt_1\"\r\n}\r\n", Secret, 1_745_433_962),
    ];
}

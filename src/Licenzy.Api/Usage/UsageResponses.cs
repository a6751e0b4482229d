using System.Text.Json;
using Licenzy.Api.Http;
using Licenzy.Api.Idempotency;
using Licenzy.Domain.Usage;
using Licenzy.Infrastructure;

namespace Licenzy.Api.Usage;

public sealed record ConsumeResponse(bool Ok, long Consumed, long UsageRemaining);

/// <summary>The answer to a consume, decided inside the subject's turn and kept for replays.</summary>
public static class UsageResponses
{
    public static IdempotentResponse For(UsageOutcome outcome, long requested, string requestHash, DateTimeOffset now) =>
        outcome.Consumed
            ? new IdempotentResponse(requestHash, 200,
                JsonSerializer.Serialize(new ConsumeResponse(true, outcome.Units, outcome.Remaining), LicenzyJson.Options), now)
            : new IdempotentResponse(requestHash, 409, InsufficientUsage(requested, outcome.Remaining).ToJson(), now);

    public static ApiError InsufficientUsage(long requested, long remaining) =>
        new(409, "insufficient_usage", "Not enough usage left", $"{requested} units requested, {remaining} remaining",
            new Dictionary<string, object?> { ["usage_remaining"] = remaining });
}

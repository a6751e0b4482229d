using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Licenzy.Deployment.Tests;

/// <summary>A Dapr Resiliency spec, with the longest time each target can take.</summary>
public sealed partial class ResiliencySpec(YamlDocument document)
{
    public YamlDocument Document { get; } = document;
    public JsonObject Spec => Document.Root["spec"] as JsonObject ?? [];
    public JsonObject Timeouts => Spec["policies"]?["timeouts"] as JsonObject ?? [];
    public JsonObject Retries => Spec["policies"]?["retries"] as JsonObject ?? [];

    public JsonObject? ComponentTarget(string component, string direction) =>
        Spec["targets"]?["components"]?[component]?[direction] as JsonObject;

    public JsonObject? ActorTarget(string actorType) => Spec["targets"]?["actors"]?[actorType] as JsonObject;

    /// <summary>
    /// The longest a target can keep a caller waiting: every attempt running into its timeout,
    /// and every wait between attempts as long as the retry policy allows.
    /// </summary>
    public TimeSpan WorstCase(JsonObject target)
    {
        var timeoutName = Yaml.Text(target["timeout"]) ?? throw new Xunit.Sdk.XunitException($"{Document}: a target has no timeout.");
        var retryName = Yaml.Text(target["retry"]) ?? throw new Xunit.Sdk.XunitException($"{Document}: a target has no retry.");
        var timeout = GoDuration.Parse(Yaml.Text(Timeouts[timeoutName]));
        var retry = Retries[retryName] as JsonObject ?? throw new Xunit.Sdk.XunitException($"{Document}: no retry policy {retryName}.");
        var retries = MaxRetries(retry);
        if (retries < 0) throw new Xunit.Sdk.XunitException($"{Document}: retry policy {retryName} retries forever.");
        var longestWait = Yaml.Text(retry["policy"]) == "exponential"
            ? GoDuration.Parse(Yaml.Text(retry["maxInterval"]) ?? "60s")
            : GoDuration.Parse(Yaml.Text(retry["duration"]) ?? "5s");
        return timeout * (retries + 1) + longestWait * retries;
    }

    /// <summary>maxRetries of a retry policy; Dapr's default, -1, means forever.</summary>
    public static long MaxRetries(JsonObject retry) =>
        retry["maxRetries"] is JsonValue value && value.TryGetValue<long>(out var retries) ? retries : -1;
}

/// <summary>Go duration strings as Dapr reads them ("500ms", "20s", "1m30s"); a bare number is seconds.</summary>
public static partial class GoDuration
{
    public static TimeSpan Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new Xunit.Sdk.XunitException("A duration is missing.");
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)) return TimeSpan.FromSeconds(seconds);
        var parts = Part().Matches(text);
        if (parts.Count == 0 || string.Concat(parts.Select(p => p.Value)) != text)
            throw new Xunit.Sdk.XunitException($"'{text}' is not a Go duration.");
        return parts.Aggregate(TimeSpan.Zero, (total, part) =>
        {
            var amount = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            return total + part.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                _ => TimeSpan.FromHours(amount),
            };
        });
    }

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")]
    private static partial Regex Part();
}

using System.Security.Cryptography;
using System.Text;
using Licenzy.Infrastructure.State;

namespace Licenzy.Api.Idempotency;

/// <summary>
/// The first response given for an Idempotency-Key, kept so that a retry with the same key and
/// the same request gets it again and causes nothing twice. <see cref="RequestHash"/> tells a
/// retry from a different request that reused the key.
/// </summary>
public sealed record IdempotentResponse(string RequestHash, int Status, string Body, DateTimeOffset CreatedAt)
{
    /// <summary>How long a key is honoured. API.md promises at least 24 hours.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>
    /// How long the store keeps a record (its time to live): past <see cref="Retention"/> a record
    /// no longer answers, and a day later the store forgets it, so keys do not pile up forever.
    /// </summary>
    public static readonly TimeSpan StoredFor = Retention * 2;

    public const string KeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public bool IsCurrent(DateTimeOffset now) => now - CreatedAt < Retention;

    /// <summary>
    /// The write that records this response under <paramref name="key"/>: over <paramref name="earlier"/>
    /// (a record past its retention) only if that is unchanged, else only if the key is still free,
    /// and kept for <see cref="StoredFor"/>.
    /// </summary>
    public StateOperation.Upsert RecordAs(string key, StateEntry<IdempotentResponse>? earlier) =>
        new(key, this, earlier?.ETag, MustNotExist: earlier is null, TimeToLive: StoredFor);

    /// <summary>A key is 1 to 255 printable ASCII characters.</summary>
    public static bool IsValidKey(string key) => key.Length is >= 1 and <= 255 && key.All(c => c is >= ' ' and <= '~');

    /// <summary>Hashes the meaning of a request (its fields), so formatting differences are still the same request.</summary>
    public static string HashOf(params string?[] fields)
    {
        var text = string.Join("\u001f", fields.Select(f => f ?? "\u0000"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Writes this response (first time or replay) as the HTTP answer.</summary>
    public IResult ToResult(bool replayed) => new Written(this, replayed);

    private sealed class Written(IdempotentResponse response, bool replayed) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            if (replayed) context.Response.Headers[ReplayedHeader] = "true";
            if (response.Status >= 400)
            {
                // Through the problem writer like any other error, so it carries this request's trace_id.
                var problem = System.Text.Json.JsonSerializer.Deserialize<Microsoft.AspNetCore.Mvc.ProblemDetails>(response.Body)!;
                await TypedResults.Problem(problem).ExecuteAsync(context);
                return;
            }
            context.Response.StatusCode = response.Status;
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(response.Body, context.RequestAborted);
        }
    }
}

/// <summary>Reads the optional or required Idempotency-Key header.</summary>
public static class IdempotencyKeyHeader
{
    /// <summary>The key; or an error when present but malformed. (null, null) when absent.</summary>
    public static (string? Key, ApiError? Error) Read(HttpRequest request)
    {
        if (!request.Headers.TryGetValue(IdempotentResponse.KeyHeader, out var values) || values.Count == 0) return (null, null);
        var key = values.ToString();
        return values.Count == 1 && IdempotentResponse.IsValidKey(key) ? (key, null) : (null, ApiError.InvalidIdempotencyKey());
    }
}

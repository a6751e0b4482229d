using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NSec.Cryptography;

namespace Licenzy.Client;

/// <summary>
/// Licenzy's runtime API for a backend: typed calls for every runtime route, and
/// <see cref="IsAllowedAsync"/>, answered from a verified entitlement token held in memory.
/// Register it with <see cref="LicenzyClientRegistration.AddLicenzyClient"/>; it is a singleton
/// that takes its <see cref="HttpClient"/> from the factory (with the standard resilience
/// handler: retries of transient failures, timeouts) for each call.
/// </summary>
public sealed partial class LicenzyClient
{
    /// <summary>The name of the <see cref="HttpClient"/> the client takes from the factory.</summary>
    public const string HttpClientName = "Licenzy.Client";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private readonly IHttpClientFactory _http;
    private readonly LicenzyClientOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, HeldToken> _tokens = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _keySetGate = new(1, 1);
    private volatile IReadOnlyDictionary<string, PublicKey> _keys = new Dictionary<string, PublicKey>();
    private DateTimeOffset _keysFetchedAt = DateTimeOffset.MinValue;

    public LicenzyClient(IHttpClientFactory http, IOptions<LicenzyClientOptions> options, TimeProvider? clock = null,
        ILogger<LicenzyClient>? log = null)
    {
        _http = http;
        _options = options.Value;
        if (_options.BaseAddress is null) throw new InvalidOperationException("LicenzyClientOptions.BaseAddress is required.");
        if (string.IsNullOrEmpty(_options.ApiKey)) throw new InvalidOperationException("LicenzyClientOptions.ApiKey is required.");
        _clock = clock ?? TimeProvider.System;
        _log = log ?? NullLogger<LicenzyClient>.Instance;
    }

    // --- typed calls ----------------------------------------------------------------------

    /// <summary>Asks Stripe, through Licenzy, for a Checkout Session; one idempotency key for this call and its retries.</summary>
    public Task<CheckoutSession> CreateCheckoutSessionAsync(string subjectRef, string productCode, string? successUrl = null,
        string? cancelUrl = null, string? idempotencyKey = null, CancellationToken ct = default) =>
        SendAsync<CheckoutSession>(HttpMethod.Post, "/v1/checkout/session",
            new { subject_ref = subjectRef, product_code = productCode, success_url = successUrl, cancel_url = cancelUrl },
            idempotencyKey ?? NewIdempotencyKey(), ct);

    /// <summary>Asks Licenzy whether the subject may use the product (or <paramref name="feature"/>) now: one network call.</summary>
    public Task<AccessCheck> CheckAccessAsync(string subjectRef, string? feature = null, CancellationToken ct = default) =>
        SendAsync<AccessCheck>(HttpMethod.Post, "/v1/access/check", feature is null ? new { subject_ref = subjectRef } : new { subject_ref = subjectRef, feature },
            null, ct);

    public Task<CustomerAccess> GetCustomerAccessAsync(string subjectRef, CancellationToken ct = default) =>
        SendAsync<CustomerAccess>(HttpMethod.Get, $"/v1/customer/access/{Uri.EscapeDataString(subjectRef)}", null, null, ct);

    public Task<EntitlementList> GetEntitlementsAsync(string subjectRef, CancellationToken ct = default) =>
        SendAsync<EntitlementList>(HttpMethod.Get, $"/v1/entitlements/{Uri.EscapeDataString(subjectRef)}", null, null, ct);

    /// <summary>
    /// Spends <paramref name="units"/>, once: the idempotency key (made here when not given) is
    /// sent with the first attempt and every retry, so a retry after a lost answer spends nothing
    /// again. Pass your own key to make a retry of your own call safe too.
    /// </summary>
    /// <exception cref="LicenzyApiException"><c>409 insufficient_usage</c> (nothing spent; <see cref="LicenzyApiException.UsageRemaining"/>), and the others of API.md.</exception>
    public async Task<UsageConsumed> ConsumeAsync(string subjectRef, long units, string? idempotencyKey = null, CancellationToken ct = default)
    {
        var key = idempotencyKey ?? NewIdempotencyKey();
        using var response = await SendRawAsync(HttpMethod.Post, "/v1/usage/consume", new { subject_ref = subjectRef, units }, key, ct);
        var body = await ReadAsync<ConsumeBody>(response, ct);
        return new UsageConsumed(body.Consumed, body.UsageRemaining, key, response.Headers.Contains("Idempotent-Replayed"));
    }

    private sealed record ConsumeBody(bool Ok, long Consumed, long UsageRemaining);

    public Task<LicenseValidation> ValidateLicenseAsync(string key, string? feature = null, CancellationToken ct = default) =>
        SendAsync<LicenseValidation>(HttpMethod.Post, "/v1/licenses/validate", feature is null ? new { key } : new { key, feature }, null, ct);

    public async Task<IReadOnlyList<License>> ListLicensesAsync(string subjectRef, CancellationToken ct = default) =>
        (await SendAsync<LicenseList>(HttpMethod.Get, $"/v1/licenses?subject_ref={Uri.EscapeDataString(subjectRef)}", null, null, ct)).Licenses;

    private sealed record LicenseList(IReadOnlyList<License> Licenses);

    /// <exception cref="LicenzyApiException"><c>404 license_not_found</c>.</exception>
    public Task<License> GetLicenseAsync(string id, CancellationToken ct = default) =>
        SendAsync<License>(HttpMethod.Get, $"/v1/licenses/{Uri.EscapeDataString(id)}", null, null, ct);

    /// <summary>A fresh entitlement token for the subject, as issued (not verified here).</summary>
    public Task<AccessToken> GetAccessTokenAsync(string subjectRef, CancellationToken ct = default) =>
        SendAsync<AccessToken>(HttpMethod.Post, "/v1/access/token", new { subject_ref = subjectRef }, null, ct);

    private static string NewIdempotencyKey() => "lzc_" + Guid.NewGuid().ToString("N");

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, string? idempotencyKey, CancellationToken ct)
    {
        using var response = await SendRawAsync(method, path, body, idempotencyKey, ct);
        return await ReadAsync<T>(response, ct);
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, object? body, string? idempotencyKey, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(_options.BaseAddress!, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        var response = await _http.CreateClient(HttpClientName).SendAsync(request, ct);
        if (response.IsSuccessStatusCode) return response;
        using (response) throw await ProblemAsync(response, ct);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct) =>
        await response.Content.ReadFromJsonAsync<T>(Json, ct)
        ?? throw new LicenzyApiException(response.StatusCode, "empty_response", "Licenzy sent no body", null);

    /// <summary>The problem+json body as an exception with its code (or the status, when the body is not one).</summary>
    private static async Task<LicenzyApiException> ProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var root = problem.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            long? remaining = root.TryGetProperty("usage_remaining", out var r) && r.TryGetInt64(out var n) ? n : null;
            return new LicenzyApiException(response.StatusCode, Text("code") ?? $"http_{(int)response.StatusCode}", Text("title"), Text("detail"), remaining);
        }
        catch (JsonException)
        {
            return new LicenzyApiException(response.StatusCode, $"http_{(int)response.StatusCode}", response.ReasonPhrase, null);
        }
    }

    // --- access from tokens -------------------------------------------------------------------

    private sealed class HeldToken(VerifiedToken token)
    {
        public VerifiedToken Token { get; } = token;
        public int Refreshing;
    }

    /// <summary>
    /// Whether the subject may use the product (or <paramref name="feature"/>) now, answered from
    /// a verified entitlement token held in memory: no network call while it is valid. The first
    /// call for a subject fetches a token (and the key set); a token close to its expiry is
    /// renewed in the background while it keeps answering. <b>When Licenzy cannot be reached</b>,
    /// a token keeps answering until it expires; after that, and when no valid token could be had
    /// at all, the answer is <c>false</c> (fail closed) and a warning is logged. A wrong API key
    /// (<c>401</c>) or a subject_ref Licenzy refuses still throws <see cref="LicenzyApiException"/>.
    /// </summary>
    public ValueTask<bool> IsAllowedAsync(string subjectRef, string? feature = null, CancellationToken ct = default)
    {
        var now = _clock.GetUtcNow();
        if (_tokens.TryGetValue(subjectRef, out var held) && held.Token.IsValidAt(now))
        {
            if (now >= RefreshAt(held.Token) && Interlocked.Exchange(ref held.Refreshing, 1) == 0) _ = RefreshAsync(subjectRef, held);
            return ValueTask.FromResult(held.Token.Allows(feature));
        }
        return new ValueTask<bool>(FetchAndAnswerAsync(subjectRef, feature, ct));
    }

    /// <summary>
    /// Drops the token held for the subject, so the next <see cref="IsAllowedAsync"/> fetches a
    /// fresh one. A held token says what was true when it was made, for up to its lifetime; call
    /// this when your backend learns that the subject's access changed: Licenzy's
    /// <c>entitlements.updated</c> webhook, or the return from a checkout the subject just paid.
    /// </summary>
    public void ForgetToken(string subjectRef) => _tokens.TryRemove(subjectRef, out _);

    private DateTimeOffset RefreshAt(VerifiedToken token)
    {
        var life = token.ExpiresAt - token.NotBefore;
        var margin = life < _options.RefreshBeforeExpiry * 2 ? life / 2 : _options.RefreshBeforeExpiry;
        return token.ExpiresAt - margin;
    }

    private async Task<bool> FetchAndAnswerAsync(string subjectRef, string? feature, CancellationToken ct)
    {
        try
        {
            var token = await FetchVerifiedAsync(subjectRef, ct);
            _tokens[subjectRef] = new HeldToken(token);
            return token.Allows(feature);
        }
        catch (Exception e) when (IsUnreachable(e, ct) || e is TokenVerificationException)
        {
            LogFailClosed(_log, subjectRef, e);
            return false;
        }
    }

    private async Task RefreshAsync(string subjectRef, HeldToken held)
    {
        try
        {
            _tokens[subjectRef] = new HeldToken(await FetchVerifiedAsync(subjectRef, CancellationToken.None));
        }
        catch (Exception e)
        {
            // The held token answers until it expires; the next call after this one tries again.
            LogRefreshFailed(_log, subjectRef, e);
            Volatile.Write(ref held.Refreshing, 0);
        }
    }

    private static bool IsUnreachable(Exception e, CancellationToken ct) =>
        e is HttpRequestException or TimeoutException
        || (e is OperationCanceledException && !ct.IsCancellationRequested)
        || e is LicenzyApiException { Status: >= HttpStatusCode.InternalServerError };

    /// <summary>A token fetched now and verified against the key set.</summary>
    private async Task<VerifiedToken> FetchVerifiedAsync(string subjectRef, CancellationToken ct) =>
        await VerifyTokenAsync((await GetAccessTokenAsync(subjectRef, ct)).Token, subjectRef, ct);

    /// <summary>
    /// Verifies an entitlement token for <paramref name="subjectRef"/> (one your own frontend or
    /// another service passed on, say): its EdDSA signature by a key of Licenzy's key set, its
    /// issuer, audience (<see cref="LicenzyClientOptions.TenantId"/>, when set), subject and expiry.
    /// The key set is fetched once and kept; a token naming a key not in it fetches it again (at
    /// most once per <see cref="LicenzyClientOptions.KeySetMinRefreshInterval"/>). No network call
    /// when the key is known.
    /// </summary>
    /// <exception cref="TokenVerificationException">The token does not verify, or has expired.</exception>
    public ValueTask<VerifiedToken> VerifyTokenAsync(string token, string subjectRef, CancellationToken ct = default)
    {
        var kid = TokenVerifier.KidOf(token);
        return _keys.TryGetValue(kid, out var key)
            ? ValueTask.FromResult(TokenVerifier.Verify(token, key, _options.Issuer, _options.TenantId, subjectRef, _clock.GetUtcNow()))
            : new ValueTask<VerifiedToken>(VerifyWithNewKeysAsync(token, kid, subjectRef, ct));
    }

    private async Task<VerifiedToken> VerifyWithNewKeysAsync(string token, string kid, string subjectRef, CancellationToken ct)
    {
        await RefreshKeySetAsync(ct);
        if (!_keys.TryGetValue(kid, out var key)) throw new TokenVerificationException($"no key {kid} in Licenzy's key set");
        return TokenVerifier.Verify(token, key, _options.Issuer, _options.TenantId, subjectRef, _clock.GetUtcNow());
    }

    private async Task RefreshKeySetAsync(CancellationToken ct)
    {
        await _keySetGate.WaitAsync(ct);
        try
        {
            if (_clock.GetUtcNow() - _keysFetchedAt < _options.KeySetMinRefreshInterval && _keys.Count > 0) return;
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_options.BaseAddress!, "/.well-known/jwks.json"));
            using var response = await _http.CreateClient(HttpClientName).SendAsync(request, ct);
            if (!response.IsSuccessStatusCode) throw await ProblemAsync(response, ct);
            using var set = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var keys = new Dictionary<string, PublicKey>(StringComparer.Ordinal);
            foreach (var jwk in set.RootElement.GetProperty("keys").EnumerateArray())
                if (jwk.TryGetProperty("kid", out var kid) && kid.GetString() is { } id && TokenVerifier.KeyOf(jwk) is { } key) keys[id] = key;
            _keys = keys;
            _keysFetchedAt = _clock.GetUtcNow();
        }
        finally
        {
            _keySetGate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No valid entitlement token for {SubjectRef}: answering not allowed (fail closed)")]
    private static partial void LogFailClosed(ILogger logger, string subjectRef, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the entitlement token of {SubjectRef} failed; the held token answers until it expires")]
    private static partial void LogRefreshFailed(ILogger logger, string subjectRef, Exception exception);
}

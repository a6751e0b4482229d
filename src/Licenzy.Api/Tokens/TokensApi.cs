using Licenzy.Infrastructure.Http;
using Licenzy.Api.Http;
using Licenzy.Api.Subjects;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Licenzy.Api.Tokens;

/// <summary>Entitlement tokens: <c>POST /v1/access/token</c> for a runtime key, and the public key set for anyone.</summary>
public static class TokensApi
{
    public static RouteGroupBuilder MapTokensApi(this RouteGroupBuilder runtime)
    {
        runtime.MapPost("/access/token", Issue)
            .AcceptsJson<RequestBodies.SubjectRequest>().ProducesProblems(400, 413, 415);
        return runtime;
    }

    /// <summary><c>GET /.well-known/jwks.json</c>: no key needed, as verifiers fetch it.</summary>
    public static WebApplication MapJwks(this WebApplication app)
    {
        app.MapGet("/.well-known/jwks.json", Jwks);
        return app;
    }

    public sealed record TokenResponse(string Token, DateTimeOffset ExpiresAt, long Version);

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Issue(
        HttpRequest request, SubjectReader subjects, EntitlementTokens tokens, TimeProvider clock, CancellationToken ct)
    {
        var caller = request.HttpContext.Caller();
        var (body, subjectRef, error) = await RuntimeRequests.ReadAsync(request, ct);
        if (error is not null) return error.ToResult();
        if (body!.HasErrors) return body.ValidationError().ToResult();
        var subject = new SubjectKey(caller.TenantId, caller.Mode, subjectRef!);
        var state = await subjects.GetAsync(subject, ct);
        var issued = await tokens.IssueAsync(caller.TenantId, caller.Mode, subjectRef!, state, clock.GetUtcNow(), ct);
        return TypedResults.Ok(new TokenResponse(issued.Token, issued.ExpiresAt, issued.Version));
    }

    public sealed record JsonWebKey(string Kty, string Crv, string X, string Kid, string Use, string Alg);

    public sealed record JsonWebKeySet(IReadOnlyList<JsonWebKey> Keys);

    private static async Task<Ok<JsonWebKeySet>> Jwks(HttpContext http, TokenKeys keys, CancellationToken ct)
    {
        var published = await keys.PublishedAsync(ct);
        // Keys are published a whole rotation period before they sign, so a few minutes of caching cannot miss one.
        http.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Ok(new JsonWebKeySet(published.Select(key => new JsonWebKey("OKP", "Ed25519", key.PublicKey, key.Kid, "sig", "EdDSA")).ToList()));
    }
}

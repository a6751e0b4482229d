using Licenzy.Infrastructure.Http;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Licenzy.Api.Http;
using Licenzy.Api.Idempotency;
using Licenzy.Api.Billing;
using Licenzy.Api.Setup;
using Licenzy.Domain;
using Licenzy.Domain.Products;
using Licenzy.Infrastructure;
using Licenzy.Infrastructure.State;
using Licenzy.Stripe;

namespace Licenzy.Api.Checkout;

public sealed record CheckoutResponse(string AttemptId, string Status, string CheckoutUrl, string Mode);

/// <summary>What Licenzy remembers of a checkout it started: enough to trace a later event back.</summary>
public sealed record CheckoutAttempt(string AttemptId, string SubjectRef, string ProductCode, string CheckoutSessionId, DateTimeOffset CreatedAt);

/// <summary>
/// Starts a Stripe Checkout Session for a product. Creating one never grants anything: access
/// follows only from verified billing events.
/// </summary>
public static class CheckoutApi
{
    public static RouteGroupBuilder MapCheckoutApi(this RouteGroupBuilder runtime)
    {
        runtime.MapPost("/checkout/session", Create)
            .AcceptsJson<RequestBodies.CheckoutRequest>()
            .WithRequestHeader("Idempotency-Key", required: false, "1 to 255 printable ASCII characters; a retry with the same key and body gets the first answer").Produces<CheckoutResponse>()
            .ProducesProblems(400, 404, 409, 413, 415, 502, 503);
        return runtime;
    }

    private static async Task<IResult> Create(
        HttpRequest request, ProductCatalog catalog, Tenants tenants, IStripeClient stripe,
        IStateStoreFactory stores, TimeProvider clock, CancellationToken ct)
    {
        var caller = request.HttpContext.Caller();
        var (body, subjectRef, error) = await RuntimeRequests.ReadAsync(request, ct);
        if (error is not null) return error.ToResult();
        var productCode = body!.String("product_code", required: true, maxLength: 255);
        var successUrl = body.Url("success_url");
        var cancelUrl = body.Url("cancel_url");
        if (body.HasErrors) return body.ValidationError().ToResult();
        var (key, keyError) = IdempotencyKeyHeader.Read(request);
        if (keyError is not null) return keyError.ToResult();

        var state = stores.Get(Components.StateStore);
        var requestHash = IdempotentResponse.HashOf(subjectRef, productCode, successUrl, cancelUrl);
        var recordKey = key is null ? null : StateKeys.Idempotency(caller.TenantId, caller.Mode, "checkout", key);
        StateEntry<IdempotentResponse>? earlier = null;
        if (recordKey is not null)
        {
            earlier = await state.GetAsync<IdempotentResponse>(recordKey, ct);
            if (earlier is not null && earlier.Value.IsCurrent(clock.GetUtcNow())) return AsRetryOf(earlier.Value, requestHash);
        }

        var secretKey = await tenants.StripeSecretKeyAsync(caller.TenantId, caller.Mode, ct);
        if (secretKey is null) return ApiError.StripeNotConnected(caller.Mode.ToWire()).ToResult();
        var product = await catalog.FindAsync(caller.TenantId, caller.Mode, productCode!, ct);
        if (product is null) return UnknownProduct(productCode!).ToResult();
        if (product.Archived)
            return new ApiError(409, "product_archived", "Product archived", $"The product '{product.Code}' is archived and no longer sold.").ToResult();

        // With a caller's key, the attempt id and Stripe's idempotency key follow from it, so a
        // retry that races the first request still reaches the same Stripe session.
        var attemptId = key is null ? "att_" + RandomNumberGenerator.GetHexString(24, lowercase: true) : AttemptIdFor(caller, key);
        StripeCheckoutSession session;
        try
        {
            session = await stripe.CreateCheckoutSessionAsync(secretKey, new CheckoutSessionCreate
            {
                Mode = product.Kind == ProductKind.Subscription ? CheckoutMode.Subscription : CheckoutMode.Payment,
                PriceId = product.StripePriceId,
                SuccessUrl = successUrl,
                CancelUrl = cancelUrl,
                ClientReferenceId = attemptId,
                Metadata = CheckoutMetadata.For(caller.TenantId, caller.Mode, subjectRef!, product.Code, attemptId),
            }, idempotencyKey: $"licenzy-{attemptId}", ct);
        }
        catch (StripeApiException e) when (e.IsIdempotencyMismatch)
        {
            // Stripe's key follows from the caller's, so a racing request with the same key and
            // another body reached Stripe first.
            return ApiError.IdempotencyKeyReused().ToResult();
        }
        catch (StripeException e)
        {
            return ApiError.StripeError($"Stripe could not create the checkout session: {e.Message}").ToResult();
        }

        if (session.Url is null) return ApiError.StripeError("Stripe created the session but gave no checkout URL.").ToResult();

        var now = clock.GetUtcNow();
        await state.SaveAsync(StateKeys.CheckoutAttempt(caller.TenantId, caller.Mode, attemptId),
            new CheckoutAttempt(attemptId, subjectRef!, product.Code, session.Id, now), ct);
        var response = new IdempotentResponse(requestHash, 200,
            JsonSerializer.Serialize(new CheckoutResponse(attemptId, "created", session.Url, caller.Mode.ToWire()), LicenzyJson.Options), now);
        if (recordKey is not null && !await state.TryTransactAsync([response.RecordAs(recordKey, earlier)], ct))
        {
            // A request with the same key, racing this one, recorded its answer first: this one is its
            // retry, answered the way a later retry would be (the same session, since Stripe's key is shared).
            var first = await state.GetAsync<IdempotentResponse>(recordKey, ct);
            if (first is not null) return AsRetryOf(first.Value, requestHash);
        }
        return response.ToResult(replayed: false);
    }

    /// <summary>The answer to a request whose key already has one: that answer again, or a conflict for another body.</summary>
    private static IResult AsRetryOf(IdempotentResponse earlier, string requestHash) =>
        earlier.RequestHash == requestHash ? earlier.ToResult(replayed: true) : ApiError.IdempotencyKeyReused().ToResult();

    private static ApiError UnknownProduct(string code) =>
        new(404, "unknown_product", "Unknown product",
            ProductRules.LooksLikeStripePriceId(code)
                ? $"'{code}' is a Stripe price id. Send a Licenzy product code (as defined in the setup API) as product_code."
                : $"There is no product '{code}' in this mode. Define it with the setup API first.");

    private static string AttemptIdFor(RuntimeCaller caller, string key) =>
        "att_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{caller.TenantId}\n{caller.Mode.ToWire()}\n{key}")).AsSpan(0, 12));
}

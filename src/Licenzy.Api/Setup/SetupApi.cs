using Licenzy.Api.Http;
using Licenzy.Infrastructure.Http;
using Licenzy.Api.Billing;
using Licenzy.Domain;
using Licenzy.Domain.Products;
using Licenzy.Stripe;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Licenzy.Api.Setup;

/// <summary>The operators' API: tenants, Stripe connections, products, API keys, dead letters, webhook endpoints.</summary>
public static class SetupApi
{
    public static IEndpointRouteBuilder MapSetupApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1/admin").RequireAdminToken()
            .RequiresBearer(OpenApiDocument.AdminToken).ProducesProblems(StatusCodes.Status401Unauthorized);
        admin.MapPost("/tenants", CreateTenant)
            .AcceptsJson<RequestBodies.CreateTenantRequest>().ProducesProblems(400, 413, 415);
        admin.MapGet("/tenants", ListTenants);

        var mode = admin.MapGroup("/tenants/{tenant_id}/modes/{mode}");
        mode.AddEndpointFilter(RequireTenantAndMode).ProducesProblems(400, 404);
        mode.MapPut("/stripe", ConnectStripe)
            .AcceptsJson<RequestBodies.ConnectStripeRequest>().ProducesProblems(413, 415, 502);
        mode.MapPost("/products", CreateProduct)
            .AcceptsJson<RequestBodies.CreateProductRequest>().ProducesProblems(409, 413, 415, 502);
        mode.MapGet("/products", ListProducts);
        mode.MapPatch("/products/{code}", UpdateProduct)
            .AcceptsJson<RequestBodies.UpdateProductRequest>().ProducesProblems(413, 415);
        mode.MapPost("/api-keys", CreateApiKey)
            .AcceptsJson<RequestBodies.CreateApiKeyRequest>().ProducesProblems(413, 415);
        mode.MapGet("/api-keys", ListApiKeys);
        mode.MapDelete("/api-keys/{id}", RevokeApiKey);
        mode.MapGet("/dead-letters", ListDeadLetters);
        mode.MapPost("/dead-letters/{event_id}/retry", RetryDeadLetter).ProducesProblems(409);
        mode.MapWebhookSetupApi();
        mode.MapSubjectHistoryApi();
        return app;
    }

    /// <summary>Every per-mode route answers 400 for a mode that is not test/live and 404 for an unknown tenant.</summary>
    private static async ValueTask<object?> RequireTenantAndMode(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!Modes.TryParse(http.GetRouteValue("mode") as string, out _)) return ApiError.InvalidMode().ToResult();
        var tenantId = http.GetRouteValue("tenant_id") as string ?? "";
        var tenants = http.RequestServices.GetRequiredService<Tenants>();
        if (!await tenants.ExistsAsync(tenantId, http.RequestAborted)) return ApiError.UnknownTenant(tenantId).ToResult();
        return await next(context);
    }

    internal static Mode ModeOf(string mode) => Modes.TryParse(mode, out var parsed) ? parsed : throw new InvalidOperationException("mode was checked by the filter");

    public sealed record TenantResponse(string TenantId, string Name, DateTimeOffset CreatedAt);

    private static async Task<Results<Created<TenantResponse>, ProblemHttpResult>> CreateTenant(
        HttpRequest request, Tenants tenants, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(request, JsonBody.SetupLimit, ct);
        if (error is not null) return error.ToResult();
        var name = body!.String("name", required: true, maxLength: 200);
        if (body.HasErrors) return body.ValidationError().ToResult();

        var tenant = await tenants.CreateAsync(name!, ct);
        return TypedResults.Created($"/v1/admin/tenants/{tenant.TenantId}", new TenantResponse(tenant.TenantId, tenant.Name, tenant.CreatedAt));
    }

    public sealed record TenantsResponse(IReadOnlyList<TenantResponse> Tenants);

    private static async Task<Ok<TenantsResponse>> ListTenants(Tenants tenants, CancellationToken ct) =>
        TypedResults.Ok(new TenantsResponse([.. (await tenants.ListAsync(ct)).Select(t => new TenantResponse(t.TenantId, t.Name, t.CreatedAt))]));

    /// <summary>The answer to connecting Stripe; <see cref="WebhookEndpointId"/> only when Licenzy registered the endpoint.</summary>
    public sealed record StripeConnectionResponse(
        string Mode, string WebhookUrl,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        string? WebhookEndpointId = null);

    /// <summary>
    /// Checks the key with Stripe, then keeps it with either the webhook secret the operator gives
    /// (of an endpoint made in Stripe's dashboard) or, with <c>register_webhook: true</c>, the secret
    /// of the endpoint Licenzy makes (or reuses) itself.
    /// </summary>
    private static async Task<Results<Ok<StripeConnectionResponse>, ProblemHttpResult>> ConnectStripe(
        string tenant_id, string mode, HttpRequest request, Tenants tenants, IStripeClient stripe, StripeWebhookRegistration registration,
        IOptionsMonitor<ApiOptions> options, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(request, JsonBody.SetupLimit, ct);
        if (error is not null) return error.ToResult();
        var secretKey = body!.String("secret_key", required: true, maxLength: 512);
        var sendsWebhookSecret = body.Element("webhook_secret") is not null;
        var webhookSecret = body.String("webhook_secret", required: false, maxLength: 512);
        var register = body.Boolean("register_webhook");
        var registerUnreadable = body.Element("register_webhook") is { ValueKind: not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False) };
        if (secretKey is not null && !StripeKeys.IsSecretKey(secretKey))
            body.AddError("secret_key", "must be a Stripe secret or restricted key (sk_... or rk_...)");
        if (webhookSecret is not null && !webhookSecret.StartsWith("whsec_", StringComparison.Ordinal))
            body.AddError("webhook_secret", "must be a Stripe webhook signing secret (whsec_...)");
        if (sendsWebhookSecret && register == true)
            body.AddError("register_webhook", "must not be true when webhook_secret is sent: send webhook_secret for an endpoint you made, or register_webhook: true for Licenzy to make one");
        else if (!sendsWebhookSecret && register != true && !registerUnreadable)
            body.AddError("webhook_secret", "is required, unless register_webhook is true");
        if (body.HasErrors) return body.ValidationError().ToResult();

        var wanted = ModeOf(mode);
        var publicBase = options.CurrentValue.PublicBase;
        if (register == true && publicBase is null) return StripeErrors.PublicBaseUrlNotSet().ToResult();
        var webhookUrl = $"{publicBase ?? $"{request.Scheme}://{request.Host}{request.PathBase}"}/v1/webhooks/stripe/{tenant_id}/{wanted.ToWire()}";

        if (StripeKeys.IsLive(secretKey!) != (wanted == Mode.Live)) return StripeErrors.ModeMismatch(wanted, "key").ToResult();
        RegisteredWebhookEndpoint? endpoint = null;
        var step = "check the key with";
        try
        {
            var balance = await stripe.GetBalanceAsync(secretKey!, ct);
            if (balance.Livemode != (wanted == Mode.Live)) return StripeErrors.ModeMismatch(wanted, "key").ToResult();
            step = "register the webhook endpoint with";
            if (register == true) endpoint = await registration.EnsureAsync(tenant_id, wanted, secretKey!, webhookUrl, ct);
        }
        catch (StripeApiException e) when (e.IsAuthenticationError || e.IsPermissionError)
        {
            // A restricted key may check out with the balance and still lack the right to make webhook endpoints: the operator's key to fix.
            return StripeErrors.KeyInvalid(e.Message).ToResult();
        }
        catch (StripeException e)
        {
            return ApiError.StripeError($"Could not {step} Stripe: {e.Message}").ToResult();
        }

        await tenants.ConnectStripeAsync(tenant_id, wanted, secretKey!, endpoint?.WebhookSecret ?? webhookSecret!, endpoint?.Id, ct);
        return TypedResults.Ok(new StripeConnectionResponse(wanted.ToWire(), webhookUrl, endpoint?.Id));
    }

    public sealed record ProductsResponse(IReadOnlyList<Product> Products);

    private static async Task<Results<Created<Product>, ProblemHttpResult>> CreateProduct(
        string tenant_id, string mode, HttpRequest request, Tenants tenants, ProductCatalog catalog, IStripeClient stripe,
        TimeProvider clock, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(request, JsonBody.SetupLimit, ct);
        if (error is not null) return error.ToResult();
        var code = body!.String("code", required: true, maxLength: 64);
        var kindText = body.String("kind", required: true, maxLength: 32);
        var priceId = body.String("stripe_price_id", required: true, maxLength: 255);
        var features = body.StringArray("features", ProductRules.MaxFeatures, 64);
        var name = body.String("name", required: false, maxLength: ProductRules.MaxNameLength);
        var issueLicense = body.Boolean("issue_license");
        var usageUnits = body.Integer("usage_units", required: false, long.MinValue, long.MaxValue);
        var durationDays = body.Integer("duration_days", required: false, int.MinValue, int.MaxValue);
        var graceDays = body.Integer("grace_period_days", required: false, int.MinValue, int.MaxValue);
        var failureGraceDays = body.Integer("payment_failure_grace_days", required: false, int.MinValue, int.MaxValue);
        ProductKind kind = default;
        if (kindText is not null && !ProductKinds.TryParse(kindText, out kind))
            body.AddError("kind", "must be subscription, time_pass or usage_pack");
        if (body.HasErrors) return body.ValidationError().ToResult();

        var product = new Product
        {
            Code = code!, Kind = kind, StripePriceId = priceId!, Features = features, Name = name, IssueLicense = issueLicense ?? false,
            UsageUnits = usageUnits,
            DurationDays = (int?)durationDays, GracePeriodDays = (int?)graceDays ?? ProductRules.DefaultGracePeriodDays,
            PaymentFailureGraceDays = (int?)failureGraceDays ?? 0, CreatedAt = clock.GetUtcNow(),
        };
        foreach (var (field, message) in ProductRules.Validate(product)) body.AddError(field, message);
        if (body.HasErrors) return body.ValidationError().ToResult();

        var wanted = ModeOf(mode);
        var secretKey = await tenants.StripeSecretKeyAsync(tenant_id, wanted, ct);
        if (secretKey is null) return ApiError.StripeNotConnected(wanted.ToWire()).ToResult();
        try
        {
            var price = await stripe.GetPriceAsync(secretKey, product.StripePriceId, ct);
            if (!price.Active) return StripeErrors.PriceInactive(price.Id).ToResult();
            if (price.Livemode != (wanted == Mode.Live)) return StripeErrors.ModeMismatch(wanted, "price").ToResult();
            var recurring = price.Type == "recurring";
            if (recurring != (kind == ProductKind.Subscription)) return StripeErrors.PriceTypeMismatch(kind, price.Type ?? "of no known type").ToResult();
        }
        catch (StripeApiException e) when (e.IsNotFound)
        {
            return StripeErrors.PriceNotFound(product.StripePriceId).ToResult();
        }
        catch (StripeApiException e) when (e.IsAuthenticationError || e.IsPermissionError)
        {
            // A restricted key without the right to read prices is the operator's to fix, like a revoked one.
            return StripeErrors.KeyInvalid(e.IsPermissionError ? e.Message : null).ToResult();
        }
        catch (StripeException e)
        {
            return ApiError.StripeError($"Could not fetch the price from Stripe: {e.Message}").ToResult();
        }

        if (!await catalog.TryAddAsync(tenant_id, wanted, product, ct))
            return new ApiError(409, "product_exists", "Product code taken", $"A product with code '{product.Code}' already exists in this mode.").ToResult();
        return TypedResults.Created($"/v1/admin/tenants/{tenant_id}/modes/{mode}/products", product);
    }

    private static async Task<Ok<ProductsResponse>> ListProducts(string tenant_id, string mode, ProductCatalog catalog, CancellationToken ct) =>
        TypedResults.Ok(new ProductsResponse(await catalog.ListAsync(tenant_id, ModeOf(mode), ct)));

    /// <summary>What a product's update may not change: a different product is a new code.</summary>
    private static readonly string[] FixedProductFields = ["code", "kind", "stripe_price_id", "usage_units", "duration_days"];

    /// <summary>
    /// Changes the given fields of a product, each checked as at creation. What was bought keeps
    /// the terms it was bought with; an archived product is no longer sold.
    /// </summary>
    private static async Task<Results<Ok<Product>, ProblemHttpResult>> UpdateProduct(
        string tenant_id, string mode, string code, HttpRequest request, ProductCatalog catalog, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(request, JsonBody.SetupLimit, ct);
        if (error is not null) return error.ToResult();
        foreach (var field in (string[])["features", "grace_period_days", "payment_failure_grace_days", "issue_license", "archived"])
        {
            if (body!.Has(field) && body.Element(field) is null) body.AddError(field, "must not be null");
        }
        var sendsName = body!.Has("name");
        var name = body.String("name", required: false, maxLength: ProductRules.MaxNameLength);
        var features = body.Element("features") is null ? null : body.StringArray("features", ProductRules.MaxFeatures, 64);
        var graceDays = body.Integer("grace_period_days", required: false, int.MinValue, int.MaxValue);
        var failureGraceDays = body.Integer("payment_failure_grace_days", required: false, int.MinValue, int.MaxValue);
        var issueLicense = body.Boolean("issue_license");
        var archived = body.Boolean("archived");
        if (body.HasErrors) return body.ValidationError().ToResult();

        Product Change(Product product) => product with
        {
            Name = sendsName ? name : product.Name,
            Features = features ?? product.Features,
            GracePeriodDays = (int?)graceDays ?? product.GracePeriodDays,
            PaymentFailureGraceDays = (int?)failureGraceDays ?? product.PaymentFailureGraceDays,
            IssueLicense = issueLicense ?? product.IssueLicense,
            Archived = archived ?? product.Archived,
        };

        var wanted = ModeOf(mode);
        var current = await catalog.FindAsync(tenant_id, wanted, code, ct);
        if (current is null) return UnknownProduct(code).ToResult();
        foreach (var field in FixedProductFields)
        {
            if (body.Element(field) is { } sent && !IsSame(sent, field, current))
                body.AddError(field, "cannot be changed: define a new product (and archive this one) instead");
        }
        foreach (var (field, message) in ProductRules.Validate(Change(current))) body.AddError(field, message);
        if (body.HasErrors) return body.ValidationError().ToResult();

        var updated = await catalog.TryUpdateAsync(tenant_id, wanted, code, Change, ct);
        return updated is null ? UnknownProduct(code).ToResult() : TypedResults.Ok(updated);
    }

    /// <summary>Whether a fixed field, sent anyway, says what the product already has: harmless then.</summary>
    private static bool IsSame(System.Text.Json.JsonElement sent, string field, Product product) => field switch
    {
        "code" => sent.ValueKind == System.Text.Json.JsonValueKind.String && sent.GetString() == product.Code,
        "kind" => sent.ValueKind == System.Text.Json.JsonValueKind.String && ProductKinds.TryParse(sent.GetString(), out var kind) && kind == product.Kind,
        "stripe_price_id" => sent.ValueKind == System.Text.Json.JsonValueKind.String && sent.GetString() == product.StripePriceId,
        "usage_units" => sent.ValueKind == System.Text.Json.JsonValueKind.Number && sent.TryGetInt64(out var units) && units == product.UsageUnits,
        "duration_days" => sent.ValueKind == System.Text.Json.JsonValueKind.Number && sent.TryGetInt32(out var days) && days == product.DurationDays,
        _ => false,
    };

    internal static ApiError UnknownProduct(string code) =>
        new(404, "unknown_product", "Unknown product", $"There is no product '{code}' in this mode.");

    private static bool SendsBody(HttpRequest request) => request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0;

    private static async Task<Results<Created<CreatedApiKey>, ProblemHttpResult>> CreateApiKey(
        string tenant_id, string mode, HttpRequest request, ApiKeys keys, CancellationToken ct)
    {
        string? name = null;
        if (SendsBody(request))
        {
            var (body, error) = await JsonBody.ReadAsync(request, JsonBody.SetupLimit, ct);
            if (error is not null) return error.ToResult();
            name = body!.String("name", required: false, maxLength: 200);
            if (body.HasErrors) return body.ValidationError().ToResult();
        }
        var created = await keys.CreateAsync(tenant_id, ModeOf(mode), name, ct);
        return TypedResults.Created($"/v1/admin/tenants/{tenant_id}/modes/{mode}/api-keys/{created.Id}", created);
    }

    public sealed record ApiKeyResponse(
        string Id, string? Name, string Mode, string? Hint, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

    public sealed record ApiKeysResponse(IReadOnlyList<ApiKeyResponse> ApiKeys);

    private static async Task<Ok<ApiKeysResponse>> ListApiKeys(string tenant_id, string mode, ApiKeys keys, ApiKeyUses uses, CancellationToken ct)
    {
        var wanted = ModeOf(mode);
        var listed = await keys.ListAsync(tenant_id, wanted, ct);
        var lastUses = await uses.ListAsync(tenant_id, wanted, ct);
        return TypedResults.Ok(new ApiKeysResponse([.. listed.Select(k => new ApiKeyResponse(
            k.Id, k.Name, wanted.ToWire(), k.Hint, k.CreatedAt, lastUses.TryGetValue(k.Id, out var used) ? used : null, k.RevokedAt))]));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeApiKey(
        string tenant_id, string mode, string id, ApiKeys keys, CancellationToken ct) =>
        await keys.RevokeAsync(tenant_id, ModeOf(mode), id, ct)
            ? TypedResults.NoContent()
            : new ApiError(404, "unknown_api_key", "Unknown API key", $"There is no active API key '{id}' in this tenant and mode.").ToResult();

    /// <summary>The answer to a retry: whether the event applied (and left the list), or why it still cannot.</summary>
    public sealed record DeadLetterRetryResponse(
        string EventId, bool Applied,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        string? Reason = null);

    /// <summary>
    /// Applies a dead-lettered event again, now, as the billing-events subscriber would. Applied (or
    /// now ignored), it leaves the list; still not applicable, it stays with the reason of this try.
    /// Applying an event twice changes nothing, so a retry of one that did apply meanwhile is harmless.
    /// </summary>
    private static async Task<Results<Accepted<DeadLetterRetryResponse>, ProblemHttpResult>> RetryDeadLetter(
        string tenant_id, string mode, string event_id, HttpRequest request, DeadLetters deadLetters, BillingEventSubscriber billingEvents,
        CancellationToken ct)
    {
        // The route takes no body; one that is sent anyway must still be JSON, as every body must.
        if (SendsBody(request) && (await JsonBody.ReadAsync(request, JsonBody.SetupLimit, ct)).Error is { } error) return error.ToResult();
        var wanted = ModeOf(mode);
        var (letter, received) = await deadLetters.FindAsync(tenant_id, wanted, event_id, ct);
        if (letter is null)
            return new ApiError(404, "unknown_dead_letter", "Unknown dead letter", $"There is no dead letter for event '{event_id}' in this tenant and mode.").ToResult();
        if (received is null)
        {
            return new ApiError(409, "dead_letter_not_kept", "Dead letter cannot be retried",
                $"Event '{event_id}' was dead-lettered before Licenzy kept events for retrying; resend it from Stripe's dashboard instead.").ToResult();
        }

        var result = await billingEvents.ApplyAsync(received, ct);
        if (result.Status == Infrastructure.PubSub.DeliveryStatus.Success)
        {
            await deadLetters.RemoveAsync(tenant_id, wanted, event_id, ct);
            return TypedResults.Accepted((string?)null, new DeadLetterRetryResponse(event_id, Applied: true));
        }
        var reason = result.Reason ?? "undeliverable";
        await deadLetters.RecordAsync(received, reason, ct);
        return TypedResults.Accepted((string?)null, new DeadLetterRetryResponse(event_id, Applied: false, reason));
    }

    private static async Task<Ok<DeadLetterList>> ListDeadLetters(string tenant_id, string mode, DeadLetters deadLetters, CancellationToken ct) =>
        TypedResults.Ok(await deadLetters.ListAsync(tenant_id, ModeOf(mode), ct));
}

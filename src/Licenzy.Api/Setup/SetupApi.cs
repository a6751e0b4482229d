using Licenzy.Api.Http;
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
        var admin = app.MapGroup("/v1/admin").RequireAdminToken();
        admin.MapPost("/tenants", CreateTenant);

        var mode = admin.MapGroup("/tenants/{tenant_id}/modes/{mode}");
        mode.AddEndpointFilter(RequireTenantAndMode);
        mode.MapPut("/stripe", ConnectStripe);
        mode.MapPost("/products", CreateProduct);
        mode.MapGet("/products", ListProducts);
        mode.MapPost("/api-keys", CreateApiKey);
        mode.MapDelete("/api-keys/{id}", RevokeApiKey);
        mode.MapGet("/dead-letters", ListDeadLetters);
        mode.MapWebhookSetupApi();
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

    public sealed record StripeConnectionResponse(string Mode, string WebhookUrl);

    private static async Task<Results<Ok<StripeConnectionResponse>, ProblemHttpResult>> ConnectStripe(
        string tenant_id, string mode, HttpRequest request, Tenants tenants, IStripeClient stripe,
        IOptionsMonitor<ApiOptions> options, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(request, JsonBody.SetupLimit, ct);
        if (error is not null) return error.ToResult();
        var secretKey = body!.String("secret_key", required: true, maxLength: 512);
        var webhookSecret = body.String("webhook_secret", required: true, maxLength: 512);
        if (secretKey is not null && !StripeKeys.IsSecretKey(secretKey))
            body.AddError("secret_key", "must be a Stripe secret or restricted key (sk_... or rk_...)");
        if (webhookSecret is not null && !webhookSecret.StartsWith("whsec_", StringComparison.Ordinal))
            body.AddError("webhook_secret", "must be a Stripe webhook signing secret (whsec_...)");
        if (body.HasErrors) return body.ValidationError().ToResult();

        var wanted = ModeOf(mode);
        if (StripeKeys.IsLive(secretKey!) != (wanted == Mode.Live)) return StripeErrors.ModeMismatch(wanted, "key").ToResult();
        try
        {
            var balance = await stripe.GetBalanceAsync(secretKey!, ct);
            if (balance.Livemode != (wanted == Mode.Live)) return StripeErrors.ModeMismatch(wanted, "key").ToResult();
        }
        catch (StripeApiException e) when (e.IsAuthenticationError)
        {
            return StripeErrors.KeyInvalid(e.Message).ToResult();
        }
        catch (StripeException e)
        {
            return ApiError.StripeError($"Could not check the key with Stripe: {e.Message}").ToResult();
        }

        await tenants.ConnectStripeAsync(tenant_id, wanted, secretKey!, webhookSecret!, ct);
        var baseUrl = options.CurrentValue.PublicIngestUrl?.TrimEnd('/') ?? $"{request.Scheme}://{request.Host}{request.PathBase}";
        return TypedResults.Ok(new StripeConnectionResponse(wanted.ToWire(), $"{baseUrl}/v1/webhooks/stripe/{tenant_id}/{wanted.ToWire()}"));
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
        catch (StripeApiException e) when (e.IsAuthenticationError)
        {
            return StripeErrors.KeyInvalid().ToResult();
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

    private static async Task<Results<Created<CreatedApiKey>, ProblemHttpResult>> CreateApiKey(
        string tenant_id, string mode, HttpRequest request, ApiKeys keys, CancellationToken ct)
    {
        string? name = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            var (body, error) = await JsonBody.ReadAsync(request, JsonBody.SetupLimit, ct);
            if (error is not null) return error.ToResult();
            name = body!.String("name", required: false, maxLength: 200);
            if (body.HasErrors) return body.ValidationError().ToResult();
        }
        var created = await keys.CreateAsync(tenant_id, ModeOf(mode), name, ct);
        return TypedResults.Created($"/v1/admin/tenants/{tenant_id}/modes/{mode}/api-keys/{created.Id}", created);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeApiKey(
        string tenant_id, string mode, string id, ApiKeys keys, CancellationToken ct) =>
        await keys.RevokeAsync(tenant_id, ModeOf(mode), id, ct)
            ? TypedResults.NoContent()
            : new ApiError(404, "unknown_api_key", "Unknown API key", $"There is no active API key '{id}' in this tenant and mode.").ToResult();

    private static async Task<Ok<DeadLetterList>> ListDeadLetters(string tenant_id, string mode, DeadLetters deadLetters, CancellationToken ct) =>
        TypedResults.Ok(await deadLetters.ListAsync(tenant_id, ModeOf(mode), ct));
}

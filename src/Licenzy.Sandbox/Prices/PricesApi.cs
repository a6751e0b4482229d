using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Licenzy.Infrastructure.Http;
using Licenzy.Sandbox.Account;
using Licenzy.Sandbox.Admin;
using Licenzy.Sandbox.StripeApi;
using Licenzy.Sandbox.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Licenzy.Sandbox.Prices;

/// <summary>
/// <c>POST /sandbox/prices</c> adds a test price beside the seeded ones; <c>GET /sandbox/prices</c>
/// lists them. Prices are answered in Stripe's shape, as <c>GET /v1/prices/{id}</c> would.
/// </summary>
public static partial class PricesApi
{
    public const long DefaultUnitAmount = 1000;
    public const string DefaultCurrency = "usd";

    // Stripe's limit for unit_amount: eight digits.
    private const long MaxUnitAmount = 99_999_999;

    public static RouteGroupBuilder MapSandboxPrices(this RouteGroupBuilder sandbox)
    {
        var prices = sandbox.MapGroup("/prices").RequireAdminToken();
        prices.MapPost("", AddAsync);
        prices.MapGet("", List);
        return sandbox;
    }

    private static IResult List(SandboxAccount account)
    {
        var prices = account.Transact(data => data.Prices.Values.OrderBy(p => p.Created).ThenBy(p => p.Id, StringComparer.Ordinal).ToList());
        return StripeAnswer.Json(new JsonObject { ["prices"] = new JsonArray([.. prices.Select(p => (JsonNode)StripeObjectJson.Price(p))]) });
    }

    private static async Task<IResult> AddAsync(HttpRequest request, SandboxAccount account, TimeProvider clock, CancellationToken ct)
    {
        var (body, error) = await JsonBody.ReadAsync(request, JsonBody.SetupLimit, ct);
        if (error is not null) return error.ToResult();
        var id = body!.String("id", required: false, maxLength: 100);
        if (id is not null && !PriceId().IsMatch(id)) body.AddError("id", "must be price_ followed by letters, digits or _");
        var type = body.String("type", required: true, maxLength: 20);
        if (type is not null and not (PriceTypes.OneTime or PriceTypes.Recurring)) body.AddError("type", "must be one_time or recurring");
        var unitAmount = body.Integer("unit_amount", required: false, 0, MaxUnitAmount) ?? DefaultUnitAmount;
        var currency = body.String("currency", required: false, maxLength: 3)?.ToLowerInvariant() ?? DefaultCurrency;
        if (!Currency().IsMatch(currency)) body.AddError("currency", "must be a three-letter ISO currency code, e.g. usd");
        var nickname = body.String("nickname", required: false, maxLength: 100);
        var active = true;
        if (body.Element("active") is { } activeValue)
        {
            if (activeValue.ValueKind is JsonValueKind.True or JsonValueKind.False) active = activeValue.GetBoolean();
            else body.AddError("active", "must be true or false");
        }

        if (body.HasErrors) return body.ValidationError().ToResult();

        var priceId = id ?? StripeIds.New("price");
        var price = new SandboxPrice(priceId, type!, unitAmount, currency, active, nickname ?? priceId, clock.GetUtcNow());
        var added = account.Transact(data => data.Prices.TryAdd(price.Id, price));
        if (!added)
        {
            return new ApiError(409, "price_exists", "The price exists",
                $"The sandbox already has a price '{price.Id}'. Prices are not changed; add one with another id.").ToResult();
        }

        return Results.Content(StripeObjectJson.Price(price).ToJsonString(), "application/json", System.Text.Encoding.UTF8, StatusCodes.Status201Created);
    }

    [GeneratedRegex("^price_[A-Za-z0-9_]{1,94}$", RegexOptions.CultureInvariant)]
    private static partial Regex PriceId();

    [GeneratedRegex("^[a-z]{3}$", RegexOptions.CultureInvariant)]
    private static partial Regex Currency();
}

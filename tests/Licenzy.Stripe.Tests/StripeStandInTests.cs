using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Licenzy.Testing;

namespace Licenzy.Stripe.Tests;

/// <summary>What the stand-in promises the functional tests, seen through plain HTTP.</summary>
public sealed class StripeStandInTests : IAsyncLifetime
{
    private const string Key = "sk_test_standin0000";
    private StripeStandIn stripe = null!;
    private HttpClient http = null!;

    public async Task InitializeAsync()
    {
        stripe = await StripeStandIn.StartAsync();
        stripe.AddKey(Key, livemode: false);
        stripe.AddPrice("price_monthly");
        stripe.AddPrice("price_pack", type: "one_time");
        stripe.AddPrice("price_old", active: false);
        http = new HttpClient { BaseAddress = stripe.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
    }

    public async Task DisposeAsync()
    {
        http.Dispose();
        await stripe.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonElement Error)> PostSession(params (string Name, string Value)[] form)
    {
        using var response = await http.PostAsync("v1/checkout/sessions",
            new FormUrlEncodedContent(form.Select(field => KeyValuePair.Create(field.Name, field.Value))));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.TryGetProperty("error", out var error) ? error.Clone() : default);
    }

    [Theory]
    [InlineData("mode")]
    [InlineData("line_items[0][price]")]
    public async Task A_missing_required_parameter_is_parameter_missing(string missing)
    {
        var form = new[] { ("mode", "subscription"), ("line_items[0][price]", "price_monthly") }
            .Where(field => field.Item1 != missing).ToArray();

        var (status, error) = await PostSession(form);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("parameter_missing", error.GetProperty("code").GetString());
        Assert.Equal(missing, error.GetProperty("param").GetString());
        Assert.Empty(stripe.CheckoutSessions);
    }

    [Theory]
    [InlineData("subscription", "price_nope", "resource_missing")]
    [InlineData("subscription", "price_old", null)]
    [InlineData("subscription", "price_pack", null)]
    [InlineData("payment", "price_monthly", null)]
    public async Task A_price_that_does_not_fit_is_refused(string mode, string price, string? code)
    {
        var (status, error) = await PostSession(("mode", mode), ("line_items[0][price]", price));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal("line_items[0][price]", error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task A_replayed_session_says_so_and_echoes_metadata()
    {
        using var first = new HttpRequestMessage(HttpMethod.Post, "v1/checkout/sessions");
        first.Headers.Add("Idempotency-Key", "k1");
        first.Content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["mode"] = "subscription", ["line_items[0][price]"] = "price_monthly", ["metadata[a]"] = "1",
        });
        using var second = new HttpRequestMessage(HttpMethod.Post, "v1/checkout/sessions");
        second.Headers.Add("Idempotency-Key", "k1");
        second.Content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["metadata[a]"] = "1", ["line_items[0][price]"] = "price_monthly", ["mode"] = "subscription",
        });

        using var created = await http.SendAsync(first);
        using var replayed = await http.SendAsync(second);

        Assert.False(created.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", Assert.Single(replayed.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(await created.Content.ReadAsStringAsync(), await replayed.Content.ReadAsStringAsync());
        using var session = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        Assert.Equal("1", session.RootElement.GetProperty("metadata").GetProperty("a").GetString());
        Assert.Single(stripe.CheckoutSessions);
    }

    [Fact]
    public async Task Requests_are_counted_per_path_including_refused_ones()
    {
        using var anonymous = new HttpClient { BaseAddress = stripe.BaseUrl };

        using var refused = await anonymous.GetAsync("v1/balance");
        using var served = await http.GetAsync("v1/balance");
        using var price = await http.GetAsync("v1/prices/price_pack");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(2, stripe.RequestCount("/v1/balance"));
        Assert.Equal(1, stripe.RequestCount("/v1/prices/price_pack"));
        Assert.Equal(0, stripe.RequestCount("/v1/checkout/sessions"));
    }

    [Fact]
    public async Task The_checkout_url_is_served()
    {
        using var response = await http.GetAsync("pay/cs_test_1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

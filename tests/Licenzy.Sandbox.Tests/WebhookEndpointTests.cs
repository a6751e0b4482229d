using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Stripe;
using StripeNet = global::Stripe;

namespace Licenzy.Sandbox.Tests;

/// <summary>
/// The sandbox's <c>/v1/webhook_endpoints</c>, and the whole registration flow offline: Licenzy
/// registers the tenant's endpoint with the sandbox, and the sandbox signs that tenant's webhooks
/// with the endpoint's secret.
/// </summary>
public sealed class WebhookEndpointTests(SandboxedLicenzy app) : IClassFixture<SandboxedLicenzy>
{
    private const string Endpoints = "/sandbox/stripe/v1/webhook_endpoints";

    [Fact]
    public async Task A_tenant_that_registered_its_endpoint_buys_through_the_sandbox_and_the_webhooks_are_signed_with_that_endpoints_secret()
    {
        var tenant = await SandboxTenant.CreateAsync(app, registerWebhook: true);
        var endpointId = (await tenant.RegisterWebhookAsync()).GetProperty("webhook_endpoint_id").GetString()!;

        var (_, events) = await tenant.BuyAsync("user_1", SandboxTenant.Subscription);

        Assert.True(await tenant.IsAllowedAsync("user_1"));
        var endpoint = await (await Stripe().GetAsync($"{Endpoints}/{endpointId}")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"{SandboxedLicenzy.Origin}/v1/webhooks/stripe/{tenant.TenantId}/test", endpoint.GetProperty("url").GetString());
        Assert.Equal(StripeEventTypes.HandledInOrder, endpoint.GetProperty("enabled_events").EnumerateArray().Select(e => e.GetString()));
        Assert.False(endpoint.TryGetProperty("secret", out _));
        foreach (var delivered in events)
        {
            var webhook = tenant.Webhook(delivered);
            Assert.False(StripeSignature.Check(webhook.Body, webhook.Signature, SandboxOptions.DefaultWebhookSecret, app.Clock.GetUtcNow()).IsValid);
        }

        // Triggers sign the same way.
        await tenant.TriggerAppliedAsync("user_1", "payment_failure");
        Assert.False(await tenant.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task Registering_again_reuses_the_endpoint_and_one_deleted_in_the_sandbox_is_made_again_and_signs_from_then_on()
    {
        var tenant = await SandboxTenant.CreateAsync(app, registerWebhook: true);
        var first = (await tenant.RegisterWebhookAsync()).GetProperty("webhook_endpoint_id").GetString()!;
        Assert.Equal(first, (await tenant.RegisterWebhookAsync()).GetProperty("webhook_endpoint_id").GetString());
        Assert.Single(await TenantEndpointsAsync(tenant));

        Assert.Equal(HttpStatusCode.OK, (await Stripe().DeleteAsync($"{Endpoints}/{first}")).StatusCode);
        var second = (await tenant.RegisterWebhookAsync()).GetProperty("webhook_endpoint_id").GetString()!;

        Assert.NotEqual(first, second);
        Assert.Equal([second], await TenantEndpointsAsync(tenant));
        await tenant.BuyAsync("user_1", SandboxTenant.DayPass);
        Assert.True(await tenant.IsAllowedAsync("user_1"));
    }

    [Fact]
    public async Task A_tenant_connected_with_the_fixed_secret_is_still_signed_with_it()
    {
        var registered = await SandboxTenant.CreateAsync(app, registerWebhook: true);
        var tenant = await SandboxTenant.CreateAsync(app);

        var (_, events) = await tenant.BuyAsync("user_1", SandboxTenant.Subscription);

        Assert.NotEqual(registered.TenantId, tenant.TenantId);
        var webhook = tenant.Webhook(events[0]);
        Assert.True(StripeSignature.Check(webhook.Body, webhook.Signature, SandboxOptions.DefaultWebhookSecret, app.Clock.GetUtcNow()).IsValid);
    }

    [Fact]
    public async Task Stripe_net_creates_retrieves_lists_and_deletes_an_endpoint_and_sees_its_secret_only_when_made()
    {
        var stripe = StripeNetClient();
        var created = await stripe.V1.WebhookEndpoints.CreateAsync(new StripeNet.WebhookEndpointCreateOptions
        {
            Url = "https://shop.example/stripe/webhooks",
            EnabledEvents = ["invoice.paid", "charge.refunded"],
            ApiVersion = "2024-06-20",
        });

        var fetched = await stripe.V1.WebhookEndpoints.GetAsync(created.Id);
        var listed = await stripe.V1.WebhookEndpoints.ListAsync();
        var deleted = await stripe.V1.WebhookEndpoints.DeleteAsync(created.Id);
        var gone = await Assert.ThrowsAsync<StripeNet.StripeException>(() => stripe.V1.WebhookEndpoints.GetAsync(created.Id));

        Assert.StartsWith("we_", created.Id);
        Assert.StartsWith("whsec_", created.Secret);
        Assert.Equal("enabled", created.Status);
        Assert.False(created.Livemode);
        Assert.Equal("2024-06-20", created.ApiVersion);
        Assert.Equal(["invoice.paid", "charge.refunded"], fetched.EnabledEvents);
        Assert.Equal("https://shop.example/stripe/webhooks", fetched.Url);
        Assert.Null(fetched.Secret);
        Assert.Contains(listed.Data, endpoint => endpoint.Id == created.Id && endpoint.Secret is null);
        Assert.True(deleted.Deleted);
        Assert.Equal(HttpStatusCode.NotFound, gone.HttpStatusCode);
        Assert.Equal("resource_missing", gone.StripeError.Code);
    }

    [Fact]
    public async Task The_curl_form_of_a_list_is_taken_in_order()
    {
        var response = await Stripe().PostAsync(Endpoints, Form(
            ("url", "https://shop.example/hook"), ("enabled_events[]", "invoice.paid"), ("enabled_events[]", "charge.refunded")));

        var endpoint = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["invoice.paid", "charge.refunded"], endpoint.GetProperty("enabled_events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.Null, endpoint.GetProperty("api_version").ValueKind);
    }

    [Theory]
    [InlineData("enabled_events[0]=invoice.paid", "url", "parameter_missing")]
    [InlineData("url=shop.example/hook&enabled_events[0]=invoice.paid", "url", "parameter_invalid_string")]
    [InlineData("url=ftp%3A%2F%2Fshop.example%2Fhook&enabled_events[0]=invoice.paid", "url", "parameter_invalid_string")]
    [InlineData("url=https%3A%2F%2Fshop.example%2Fhook", "enabled_events", "parameter_missing")]
    [InlineData("url=https%3A%2F%2Fshop.example%2Fhook&enabled_events[0]=", "enabled_events", "parameter_invalid_string")]
    [InlineData("url=https%3A%2F%2Fshop.example%2Fhook&enabled_events[0]=invoice.paid&api_version=yesterday", "api_version", "parameter_invalid_string")]
    public async Task A_bad_create_is_Stripes_invalid_request_naming_the_parameter_and_makes_nothing(string form, string param, string code)
    {
        var before = (await ListAsync()).Count;
        var content = new StringContent(form);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");

        var response = await Stripe().PostAsync(Endpoints, content);

        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(before, (await ListAsync()).Count);
    }

    [Fact]
    public async Task Unknown_ids_a_json_body_and_no_key_are_refused_as_Stripe_refuses_them()
    {
        var json = await Stripe().PostAsJsonAsync(Endpoints, new { url = "https://shop.example/hook" });
        var missing = await Stripe().GetAsync($"{Endpoints}/we_nobody");
        var deleteMissing = await Stripe().DeleteAsync($"{Endpoints}/we_nobody");
        var noKey = await app.CreateClient().GetAsync(Endpoints);

        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, deleteMissing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
    }

    private async Task<IReadOnlyList<string>> TenantEndpointsAsync(SandboxTenant tenant) =>
        [.. (await ListAsync()).Where(e => e.GetProperty("url").GetString()!.Contains(tenant.TenantId, StringComparison.Ordinal))
            .Select(e => e.GetProperty("id").GetString()!)];

    private async Task<List<JsonElement>> ListAsync() =>
        [.. (await Stripe().GetFromJsonAsync<JsonElement>(Endpoints)).GetProperty("data").EnumerateArray()];

    private HttpClient Stripe()
    {
        var client = app.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk_test_webhook_endpoint_tests");
        return client;
    }

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(field => KeyValuePair.Create(field.Name, field.Value)));

    private StripeNet.StripeClient StripeNetClient() => new(new StripeNet.StripeClientOptions
    {
        ApiKey = "sk_test_stripe_net_client",
        ApiBase = SandboxedLicenzy.Origin + "/sandbox/stripe",
        HttpClient = new StripeNet.SystemNetHttpClient(new HttpClient(app.Server.CreateHandler()), maxNetworkRetries: 0, enableTelemetry: false),
    });
}

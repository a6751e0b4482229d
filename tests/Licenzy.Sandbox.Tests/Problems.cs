using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Licenzy.Sandbox.Tests;

/// <summary>Reads error answers: Licenzy's problem details and Stripe's error envelope.</summary>
public static class Problems
{
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        return problem;
    }

    /// <summary>Stripe's <c>{"error":{...}}</c>; returns the inner object.</summary>
    public static async Task<JsonElement> AssertStripeErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {type}, got {(int)response.StatusCode}: {body}");
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        return error;
    }
}

using Microsoft.Extensions.Configuration;

namespace Licenzy.Api.Tests;

/// <summary><c>Licenzy:PublicBaseUrl</c> and its older name <c>Licenzy:PublicIngestUrl</c>, as the Api binds them.</summary>
public sealed class PublicBaseUrlTests
{
    private static ApiOptions Bind(Dictionary<string, string?> settings)
    {
        var options = new ApiOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(ApiOptions.Section).Bind(options);
        return options;
    }

    [Theory]
    [InlineData("https://licenzy.example.com/", null, "https://licenzy.example.com")]
    [InlineData(null, "https://ingest.example.com", "https://ingest.example.com")]
    [InlineData("https://licenzy.example.com", "https://ingest.example.com", "https://licenzy.example.com")]
    [InlineData("", "https://ingest.example.com/", "https://ingest.example.com")]
    [InlineData(null, null, null)]
    public void The_new_name_wins_and_the_old_one_still_counts_alone(string? baseUrl, string? ingestUrl, string? expected)
    {
        var options = Bind(new() { ["Licenzy:PublicBaseUrl"] = baseUrl, ["Licenzy:PublicIngestUrl"] = ingestUrl });

        Assert.Equal(expected, options.PublicBase);
    }
}

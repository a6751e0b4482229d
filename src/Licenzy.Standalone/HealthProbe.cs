namespace Licenzy.Standalone;

/// <summary>
/// <c>healthcheck [url]</c>: asks a running Licenzy whether it is ready, and exits 0 when the
/// answer is 200, else 1. The container image's HEALTHCHECK runs it, because the .NET runtime
/// images have no curl or wget; the app's own binary is the one tool they are sure to hold.
/// </summary>
public static class HealthProbe
{
    public const string Verb = "healthcheck";
    public const string DefaultUrl = "http://127.0.0.1:8080/readyz";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    /// <summary>Whether the command line is for the probe rather than for starting the app.</summary>
    public static bool Handles(string[] args) => args.Length > 0 && args[0] == Verb;

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Error);

    public static async Task<int> RunAsync(string[] args, TextWriter error, HttpMessageHandler? handler = null)
    {
        var url = args.Length > 1 ? args[1] : DefaultUrl;
        if (args.Length > 2 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"usage: {Verb} [http://host:port/readyz] (default {DefaultUrl})");
            return 2;
        }

        using var client = handler is null ? new HttpClient() : new HttpClient(handler);
        client.Timeout = Timeout;
        try
        {
            using var response = await client.GetAsync(uri);
            if (response.IsSuccessStatusCode) return 0;
            await error.WriteLineAsync($"{uri} answered {(int)response.StatusCode}");
            return 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await error.WriteLineAsync($"{uri} did not answer: {(e is TaskCanceledException ? $"no answer within {Timeout.TotalSeconds:0} s" : e.Message)}");
            return 1;
        }
    }
}

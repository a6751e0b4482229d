using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Licenzy.Sandbox.Triggers;
using Microsoft.Extensions.Configuration;

namespace Licenzy.Sandbox.Cli;

/// <summary>
/// <c>sandbox trigger &lt;event&gt; --tenant &lt;id&gt; --subject &lt;ref&gt; [--product &lt;code&gt;] [--url &lt;base&gt;] [--admin-token &lt;t&gt;]</c>:
/// asks a running Licenzy's sandbox to make a lifecycle event happen, over HTTP, and prints what
/// was delivered. Exits non-zero when anything failed.
/// </summary>
public static class SandboxCli
{
    public const string DefaultUrl = "http://localhost:5080";

    /// <summary>Triggers answer once Licenzy accepted every webhook; that can take a few deliveries.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Whether the command line is for this CLI rather than for starting the app.</summary>
    public static bool Handles(string[] args) => args.Length > 0 && args[0] == "sandbox";

    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Out, Console.Error);

    /// <summary>Runs the CLI writing to <paramref name="output"/> and <paramref name="error"/>; <paramref name="handler"/> replaces the network, for tests.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, HttpMessageHandler? handler = null)
    {
        var eventName = new Argument<string>("event") { Description = "What happens to the purchase" };
        eventName.AcceptOnlyFromAmong([.. LifecycleTriggerNames.All]);
        var tenant = new Option<string>("--tenant") { Description = "The tenant id (ten_...)", Required = true };
        var subject = new Option<string>("--subject") { Description = "The subject_ref that bought", Required = true };
        var product = new Option<string?>("--product") { Description = "Act on the purchase of this product code (default: the latest that fits)" };
        var url = new Option<string?>("--url") { Description = $"Where Licenzy runs (default: Licenzy:Sandbox:BaseUrl, else the first of Urls, else {DefaultUrl})" };
        url.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string?>();
            if (text is not null && !SandboxAddress.IsUsable(Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : null))
                result.AddError($"--url must be an absolute http(s) URL such as {DefaultUrl}, not '{text}'.");
        });
        var adminToken = new Option<string?>("--admin-token")
        {
            Description = "The admin token (default: environment Licenzy__AdminToken, else <Licenzy:DataPath>/dev-admin-token)",
        };

        var trigger = new Command("trigger", "Make a lifecycle event happen to a subject's purchase, as Stripe would, and deliver its webhooks")
        {
            eventName, tenant, subject, product, url, adminToken,
        };
        trigger.SetAction((parsed, ct) =>
        {
            var configuration = AppConfiguration();
            var request = new TriggerRequest(parsed.GetRequiredValue(eventName), parsed.GetRequiredValue(tenant), parsed.GetRequiredValue(subject),
                parsed.GetValue(product));
            return TriggerAsync(request, BaseUrl(parsed.GetValue(url), configuration), parsed.GetValue(adminToken) ?? AdminToken(configuration),
                output, error, handler, ct);
        });
        var root = new RootCommand("Licenzy") { new Command("sandbox", "The offline Stripe sandbox of a running Licenzy") { trigger } };
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
    }

    private sealed record TriggerRequest(string Event, string TenantId, string SubjectRef, string? ProductCode);

    private static async Task<int> TriggerAsync(
        TriggerRequest trigger, Uri baseUrl, string? adminToken, TextWriter output, TextWriter error, HttpMessageHandler? handler, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(adminToken))
        {
            await error.WriteLineAsync("No admin token: pass --admin-token, set Licenzy__AdminToken, "
                + "or start Licenzy in Development once so that it writes <Licenzy:DataPath>/dev-admin-token.");
            return 1;
        }

        // One request per run, so one client for the run.
        using var http = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: handler is null)
        {
            BaseAddress = baseUrl, Timeout = RequestTimeout,
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "sandbox/triggers")
        {
            Content = JsonContent.Create(new Dictionary<string, string?>
            {
                ["tenant_id"] = trigger.TenantId, ["subject_ref"] = trigger.SubjectRef, ["event"] = trigger.Event, ["product_code"] = trigger.ProductCode,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken.Trim());

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            await error.WriteLineAsync($"Could not reach Licenzy at {baseUrl}: {e.Message.TrimEnd('.')}. Is it running (dotnet run --project src/Licenzy.Standalone)?");
            return 1;
        }

        using (response)
        {
            var body = await ReadJsonAsync(response, ct);
            if (response.IsSuccessStatusCode && body?.TryGetProperty("events", out var events) == true && events.ValueKind == JsonValueKind.Array)
            {
                await output.WriteLineAsync($"{trigger.Event} for {trigger.SubjectRef} (tenant {trigger.TenantId}): Licenzy accepted {events.GetArrayLength()} event(s)");
                foreach (var delivered in events.EnumerateArray())
                {
                    await output.WriteLineAsync($"  {Text(delivered, "type"),-34} {Text(delivered, "id")}");
                }

                return 0;
            }

            await error.WriteLineAsync(Failure(response.StatusCode, body, baseUrl));
            return 1;
        }
    }

    private static string Failure(HttpStatusCode status, JsonElement? problem, Uri baseUrl)
    {
        var code = problem is { } p ? Text(p, "code") : "";
        var detail = problem is { } d ? Text(d, "detail") : "";
        return (status, code) switch
        {
            (HttpStatusCode.NotFound, "not_found") =>
                $"Licenzy at {baseUrl} serves no sandbox. Is Licenzy:Sandbox:Enabled on (it is by default in Development)?",
            (HttpStatusCode.Unauthorized, _) => $"The admin token was refused ({code}). Pass the one Licenzy uses with --admin-token.",
            _ when detail.Length > 0 => $"{(int)status} {code}: {detail}",
            _ => $"Licenzy answered {(int)status} {status}.",
        };
    }

    private static async Task<JsonElement?> ReadJsonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<JsonElement>(ct);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Text(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

    /// <summary>The same settings the app reads where it is started: appsettings in the current folder and the environment.</summary>
    private static IConfiguration AppConfiguration()
    {
        var environment = Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? "Production";
        return new ConfigurationBuilder()
            .SetBasePath(Directory.GetCurrentDirectory())
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true)
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddEnvironmentVariables()
            .Build();
    }

    private static Uri BaseUrl(string? option, IConfiguration configuration)
    {
        var text = option ?? configuration[SandboxOptions.SectionName + ":BaseUrl"];
        if (text is null && configuration[SandboxAddress.UrlsKey] is { } urls) text = SandboxAddress.FromUrls(urls)?.AbsoluteUri;
        return new Uri((text ?? DefaultUrl).TrimEnd('/') + "/");
    }

    private static string? AdminToken(IConfiguration configuration)
    {
        if (configuration["Licenzy:AdminToken"] is { Length: > 0 } configured) return configured;
        var file = Path.Combine(Path.GetFullPath(configuration["Licenzy:DataPath"] ?? "./data"), "dev-admin-token");
        return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
    }
}

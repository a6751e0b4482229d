using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Licenzy.Testing;

/// <summary>One request a <see cref="WebhookReceiver"/> got: its path, headers and raw body.</summary>
public sealed record ReceivedWebhook(string Path, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// A tenant's backend as a test needs it: a Kestrel app on 127.0.0.1 that records every request
/// and answers each path as told (a status, a redirect, or no answer at all until disposed).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task>> _answers = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private WebApplication _app = null!;

    public int Port { get; private set; }

    public IReadOnlyList<ReceivedWebhook> Received => _received.ToArray();

    public IEnumerable<ReceivedWebhook> At(string path) => _received.Where(r => r.Path == path);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(WebhookReceiver).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));
        receiver._app = builder.Build();
        receiver._app.Run(receiver.HandleAsync);
        await receiver._app.StartAsync();
        receiver.Port = new Uri(receiver._app.Urls.Single()).Port;
        return receiver;
    }

    /// <summary>The URL of <paramref name="path"/> on this receiver, under <paramref name="host"/> (a name the test's resolver maps here).</summary>
    public string Url(string path, string host = "127.0.0.1") => $"http://{host}:{Port}{path}";

    public void AnswerStatus(string path, int status) => _answers[path] = context =>
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    };

    public void AnswerRedirect(string path, string location) => _answers[path] = context =>
    {
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    };

    /// <summary>Never answers (until the caller gives up or the receiver is disposed): an endpoint that hangs.</summary>
    public void Hang(string path) => _answers[path] = async context =>
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token);
        }
        catch (OperationCanceledException)
        {
            // The caller gave up, or the test is over.
        }
    };

    /// <summary>Waits until <paramref name="count"/> requests have come to <paramref name="path"/>.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(string path, int count = 1)
    {
        using var guard = new CancellationTokenSource(Guard);
        while (At(path).Count() < count)
        {
            try
            {
                await _arrived.WaitAsync(guard.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{count} requests to {path} did not arrive within {Guard.TotalSeconds} s; got {At(path).Count()}.");
            }
        }
        return At(path).ToList();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
        _received.Enqueue(new ReceivedWebhook(context.Request.Path.Value ?? "", headers, body));
        _arrived.Release();
        if (_answers.TryGetValue(context.Request.Path.Value ?? "", out var answer)) await answer(context);
        else context.Response.StatusCode = StatusCodes.Status200OK;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}

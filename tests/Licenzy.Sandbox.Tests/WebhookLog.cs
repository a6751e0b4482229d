using System.Collections.Concurrent;
using Licenzy.Stripe;

namespace Licenzy.Sandbox.Tests;

/// <summary>One webhook the sandbox sent: where, what, how it was signed, and what Licenzy answered.</summary>
public sealed record SentWebhook(string Path, string Body, string? Signature, int Status, string Answer)
{
    public StripeEvent Event => StripeEvent.Parse(Body);
}

/// <summary>Every webhook the sandbox sent, in order.</summary>
public sealed class WebhookLog
{
    private readonly ConcurrentQueue<SentWebhook> _sent = new();

    public IReadOnlyList<SentWebhook> To(string tenantId) =>
        [.. _sent.Where(w => w.Path == $"/v1/webhooks/stripe/{tenantId}/test")];

    /// <summary>The ones Licenzy accepted, by event id.</summary>
    public SentWebhook Accepted(string tenantId, string eventId) =>
        Assert.Single(To(tenantId), w => w.Event.Id == eventId && w.Status is >= 200 and < 300);

    internal void Add(SentWebhook webhook) => _sent.Enqueue(webhook);
}

/// <summary>Passes each webhook on to the app and records it with the answer.</summary>
internal sealed class RecordingHandler(WebhookLog log) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = await request.Content!.ReadAsStringAsync(cancellationToken);
        var signature = request.Headers.TryGetValues("Stripe-Signature", out var values) ? values.Single() : null;
        var response = await base.SendAsync(request, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        var answer = await response.Content.ReadAsStringAsync(cancellationToken);
        log.Add(new SentWebhook(request.RequestUri!.AbsolutePath, body, signature, (int)response.StatusCode, answer));
        return response;
    }
}

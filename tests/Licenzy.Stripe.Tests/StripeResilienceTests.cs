using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;

namespace Licenzy.Stripe.Tests;

/// <summary>The pipeline on its own, where what happens to discarded responses can be seen.</summary>
public sealed class StripeResilienceTests
{
    private static readonly StripeOptions Options = new()
    {
        MaxRetries = 2,
        RetryBaseDelay = TimeSpan.FromMilliseconds(1),
        AttemptTimeout = TimeSpan.FromSeconds(10),
    };

    [Fact]
    public async Task Responses_retried_past_are_disposed_and_the_last_is_not()
    {
        var pipeline = StripeResilience.Build(Options, TimeProvider.System, NullLogger.Instance);
        var answers = new Queue<TrackedResponse>([new(HttpStatusCode.ServiceUnavailable), new(HttpStatusCode.BadGateway), new(HttpStatusCode.OK)]);
        var sent = new List<TrackedResponse>();

        using var last = await Run(pipeline, safeToRepeat: true, () =>
        {
            var answer = answers.Dequeue();
            sent.Add(answer);
            return answer;
        });

        Assert.Equal(HttpStatusCode.OK, last.StatusCode);
        Assert.True(sent[0].Disposed);
        Assert.True(sent[1].Disposed);
        Assert.False(sent[2].Disposed);
    }

    [Fact]
    public async Task A_request_that_is_not_safe_to_repeat_is_never_retried()
    {
        var pipeline = StripeResilience.Build(Options, TimeProvider.System, NullLogger.Instance);
        var attempts = 0;

        using var response = await Run(pipeline, safeToRepeat: false, () =>
        {
            attempts++;
            return new TrackedResponse(HttpStatusCode.ServiceUnavailable);
        });

        Assert.Equal(1, attempts);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task A_network_failure_on_an_unsafe_request_is_not_retried()
    {
        var pipeline = StripeResilience.Build(Options, TimeProvider.System, NullLogger.Instance);
        var attempts = 0;

        await Assert.ThrowsAsync<HttpRequestException>(() => Run(pipeline, safeToRepeat: false, () =>
        {
            attempts++;
            throw new HttpRequestException("connection reset");
        }));

        Assert.Equal(1, attempts);
    }

    private static async Task<HttpResponseMessage> Run(
        ResiliencePipeline<HttpResponseMessage> pipeline, bool safeToRepeat, Func<HttpResponseMessage> attempt)
    {
        var context = ResilienceContextPool.Shared.Get("test");
        context.Properties.Set(StripeResilience.SafeToRepeat, safeToRepeat);
        try
        {
            return await pipeline.ExecuteAsync(_ => ValueTask.FromResult(attempt()), context);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private sealed class TrackedResponse(HttpStatusCode status) : HttpResponseMessage(status)
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}

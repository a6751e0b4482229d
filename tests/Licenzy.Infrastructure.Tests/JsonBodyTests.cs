using System.IO.Pipelines;
using System.Text;
using Licenzy.Infrastructure.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Licenzy.Infrastructure.Tests;

/// <summary>
/// A body read from the connection as it arrives: parsed only once it is whole, and refused as soon
/// as it passes the limit, whether or not it said its length. The pieces are fed by hand, so which
/// read sees what does not depend on a network's timing.
/// </summary>
public sealed class JsonBodyTests
{
    [Fact]
    public async Task A_body_arriving_in_pieces_is_parsed_once_it_is_whole()
    {
        var (request, body) = Request();
        var json = Encoding.UTF8.GetBytes("""{"subject_ref":"user_1","feature":"export"}""");

        await body.Writer.WriteAsync(json.AsMemory(0, 10));
        var reading = JsonBody.ReadAsync(request, JsonBody.RuntimeLimit, CancellationToken.None).AsTask();
        Assert.False(reading.IsCompleted, "the body was answered before its end arrived");
        await body.Writer.WriteAsync(json.AsMemory(10));
        await body.Writer.CompleteAsync();
        var (parsed, error) = await reading.WaitAsync(Guard.Timeout);

        Assert.Null(error);
        Assert.Equal("export", parsed!.String("feature", required: true, maxLength: 64));
    }

    [Fact]
    public async Task A_body_without_a_length_is_refused_once_it_passes_the_limit_without_waiting_for_its_end()
    {
        var (request, body) = Request();

        var reading = JsonBody.ReadAsync(request, limit: 100, CancellationToken.None).AsTask();
        await body.Writer.WriteAsync(new byte[60]);
        await body.Writer.WriteAsync(new byte[60]);
        // The body never ends: only the limit can answer.
        var (parsed, error) = await reading.WaitAsync(Guard.Timeout);

        Assert.Null(parsed);
        Assert.Equal((413, "request_too_large"), (error!.Status, error.Code));
    }

    private static (HttpRequest Request, Pipe Body) Request()
    {
        var body = new Pipe();
        var context = new DefaultHttpContext();
        context.Request.ContentType = "application/json";
        context.Features.Set<IRequestBodyPipeFeature>(new BodyPipe(body.Reader));
        return (context.Request, body);
    }

    private sealed class BodyPipe(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader => reader;
    }
}

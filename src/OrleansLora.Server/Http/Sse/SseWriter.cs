using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace OrleansLora.Server.Http.Sse;

/// <summary>Server-sent events as OpenAI and LoRAX send them: <c>data: {json}\n\n</c>, flushed per event.</summary>
internal sealed class SseWriter(HttpContext context)
{
    private static readonly byte[] Prefix = "data: "u8.ToArray();
    private static readonly byte[] Suffix = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public void Start()
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    public async Task WriteAsync<T>(T payload, CancellationToken cancellationToken)
    {
        var body = context.Response.Body;
        await body.WriteAsync(Prefix, cancellationToken);
        await JsonSerializer.SerializeAsync(body, payload, GatewayJson.Options, cancellationToken);
        await body.WriteAsync(Suffix, cancellationToken);
        await body.FlushAsync(cancellationToken);
    }

    /// <summary>An error after the first event, when the status is already sent: one <c>{"error": {...}}</c> event.</summary>
    public Task WriteErrorAsync(Exception exception, CancellationToken cancellationToken) =>
        WriteAsync(new ApiErrorResponse(ErrorMapping.Map(exception, context).Error), cancellationToken);

    public async Task WriteDoneAsync(CancellationToken cancellationToken)
    {
        await context.Response.Body.WriteAsync(Done, cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }
}

namespace OrleansLora.Server.Observability;

/// <summary>
/// Appends <see cref="LoraRequestsInfo"/>'s lines to the Prometheus exporter's <c>/metrics</c> answer (before
/// OpenMetrics' closing <c># EOF</c>), so one scrape of a worker pod sees both.
/// </summary>
public sealed class LoraRequestsInfoMiddleware(RequestDelegate next, LoraRequestsInfo info)
{
    private const string OpenMetricsEnd = "# EOF\n";

    public async Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Path != "/metrics" || !HttpMethods.IsGet(context.Request.Method))
        {
            await next(context);
            return;
        }
        var body = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = body;
        }
        string extra = context.Response.StatusCode == StatusCodes.Status200OK ? await info.RenderAsync(context.RequestAborted) : "";
        if (extra.Length == 0)
        {
            buffer.Position = 0;
            await buffer.CopyToAsync(body, context.RequestAborted);
            return;
        }
        string text = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        text = text.EndsWith(OpenMetricsEnd, StringComparison.Ordinal)
            ? string.Concat(text.AsSpan(0, text.Length - OpenMetricsEnd.Length), extra, OpenMetricsEnd)
            : text + extra;
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        context.Response.ContentLength = bytes.Length;
        await body.WriteAsync(bytes, context.RequestAborted);
    }
}

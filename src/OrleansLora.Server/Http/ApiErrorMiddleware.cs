using OrleansLora.Errors;

namespace OrleansLora.Server.Http;

/// <summary>
/// Turns exceptions from the endpoints into OpenAI-shaped errors with their HTTP status (and Retry-After
/// for 429/503). A request the client dropped is left alone: its generation was cancelled with it.
/// </summary>
internal sealed partial class ApiErrorMiddleware(RequestDelegate next, ILogger<ApiErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            LogClientGone(logger, context.Request.Path);
        }
        catch (Exception ex)
        {
            var (status, error, retryAfter) = ErrorMapping.Map(ex, context);
            if (status >= 500 && ex is not OrleansLoraException)
                LogFailed(logger, ex, context.Request.Path);
            else
                LogRefused(logger, context.Request.Path, status, error.Message);
            if (context.Response.HasStarted)
            {
                await EndStartedResponseAsync(context, error);
                return;
            }
            context.Response.Clear();
            await ErrorMapping.WriteAsync(context, status, error, retryAfter);
        }
    }

    /// <summary>
    /// The status is sent, so the error cannot be: an event stream gets one last <c>{"error": {...}}</c> event (the
    /// endpoints send their own first; this covers what escapes them), any other body is cut off by aborting the
    /// connection, so that the client sees a failed response rather than a truncated one that looks whole.
    /// </summary>
    private static async Task EndStartedResponseAsync(HttpContext context, ApiError error)
    {
        try
        {
            if (context.Response.ContentType?.StartsWith("text/event-stream", StringComparison.Ordinal) == true)
            {
                await new Sse.SseWriter(context).WriteAsync(new ApiErrorResponse(error), context.RequestAborted);
                return;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // the connection is gone: aborting it below is all that is left
        }
        context.Abort();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Path}: the client went away; its generation was cancelled")]
    private static partial void LogClientGone(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Path}: {Status} {Message}")]
    private static partial void LogRefused(ILogger logger, string path, int status, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Path} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string path);
}

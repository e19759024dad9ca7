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
                return;
            context.Response.Clear();
            await ErrorMapping.WriteAsync(context, status, error, retryAfter);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Path}: the client went away; its generation was cancelled")]
    private static partial void LogClientGone(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Path}: {Status} {Message}")]
    private static partial void LogRefused(ILogger logger, string path, int status, string message);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Path} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string path);
}

using Orleans.Clustering.Redis;
using Orleans.Persistence.Redis;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using OrleansLora.Errors;
using StackExchange.Redis;

namespace OrleansLora.Server.Http;

/// <summary>Maps the errors a generation or management call can raise to an HTTP status and an OpenAI-shaped body.</summary>
internal static class ErrorMapping
{
    public static (int Status, ApiError Error, int? RetryAfterSeconds) Map(Exception exception) => exception switch
    {
        InvalidRequestException e => (400, new ApiError(e.Message, "invalid_request_error", e.Param, "invalid_parameter"), null),
        AdapterValidationException e => (400, new ApiError(e.Message, "invalid_request_error", null, "invalid_adapter"), null),
        AdapterSourceRefusedException e => (400, new ApiError(e.Message, "invalid_request_error", null, "invalid_parameter"), null),
        AdapterNotFoundException e => (404, new ApiError(e.Message, "invalid_request_error", "model", "model_not_found"), null),
        AdapterConflictException e => (409, new ApiError(e.Message, "invalid_request_error", "model", "adapter_conflict"), null),
        ContextLengthExceededException e => (413, new ApiError(e.Message, "invalid_request_error", "messages", "context_length_exceeded"), null),
        ServerBusyException e => (429, new ApiError(e.Message, "rate_limit_error", null, "queue_full"), Math.Max(1, e.RetryAfterSeconds)),
        NoWorkerCapacityException e => (503, new ApiError(e.Message, "service_unavailable_error", null, "no_worker_capacity"), 1),
        // EnumerationAbortedException: the adapter grain streaming a generation was deactivated mid-stream, by a
        // graceful stop of its silo or a failover that moved its directory entry; a retry lands on a live one.
        SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException or EnumerationAbortedException =>
            (503, new ApiError($"a worker silo is unavailable: {exception.Message}", "service_unavailable_error", null, "worker_unavailable"), 1),
        // Redis unreachable or restarting: the membership table and grain state come back (docs/CLUSTER.md), so a
        // retry succeeds; not a defect of this server.
        _ when IsRedisOutage(exception) =>
            (503, new ApiError($"the cluster's Redis store is unavailable: {exception.Message}", "service_unavailable_error", null, "cluster_store_unavailable"), 1),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } e =>
            (413, new ApiError($"the request body is larger than this server accepts (OrleansLora:Gateway:MaxRequestBodyBytes): {e.Message}", "invalid_request_error", null, "request_too_large"), null),
        // Kestrel's own refusals while the body is read: a client that stopped sending (400), too slowly (408).
        BadHttpRequestException e => (e.StatusCode is >= 400 and < 500 ? e.StatusCode : 400, new ApiError($"the request body could not be read: {e.Message}", "invalid_request_error", null, "bad_request_body"), null),
        DeadlineExceededException e => (504, new ApiError(e.Message, "server_error", null, "deadline_exceeded"), 1),
        TimeoutException => (504, new ApiError($"the cluster did not answer in time: {exception.Message}", "server_error", null, "timeout"), null),
        ArgumentException e => (400, new ApiError(MessageOf(e), "invalid_request_error", e.ParamName, "invalid_parameter"), null),
        _ => (500, new ApiError($"internal error: {exception.GetType().Name}: {exception.Message}", "server_error", null, null), null),
    };

    /// <summary>
    /// Redis could not be reached: directly, or wrapped by Orleans' grain storage (an OrleansException around a
    /// RedisStorageException around the connection error).
    /// </summary>
    private static bool IsRedisOutage(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is RedisConnectionException or RedisTimeoutException or RedisClusteringException or RedisStorageException)
                return true;
        }
        return false;
    }

    /// <summary>As <see cref="Map(Exception)"/>, with <c>param</c> spelled as the endpoint's request spells it (<see cref="ParamNames"/>).</summary>
    public static (int Status, ApiError Error, int? RetryAfterSeconds) Map(Exception exception, HttpContext context)
    {
        var (status, error, retryAfter) = Map(exception);
        if (context.GetEndpoint()?.Metadata.GetMetadata<ParamNames>() is { } names)
            error = error with { Param = names.Rename(error.Param) };
        return (status, error, retryAfter);
    }

    /// <summary>
    /// The body for a status the framework set without one: no endpoint at that path (404), a method the path does
    /// not take (405, with the <c>Allow</c> header routing set), and any other bare 4xx/5xx, so that every error a
    /// client sees has OpenAI's shape.
    /// </summary>
    public static ApiError ForBareStatus(HttpContext context)
    {
        var request = context.Request;
        int status = context.Response.StatusCode;
        string what = $"{request.Method} {FieldChecks.Quote(request.Path.Value)}";
        return status switch
        {
            404 => new ApiError($"no endpoint at {what}.", "invalid_request_error", null, "not_found"),
            405 => new ApiError($"{what} is not allowed; allowed: {(string?)context.Response.Headers.Allow ?? "none"}.", "invalid_request_error", null, "method_not_allowed"),
            415 => new ApiError($"{what}: unsupported content type {FieldChecks.Quote(request.ContentType)}; send application/json.", "invalid_request_error", null, "unsupported_media_type"),
            >= 500 => new ApiError($"{what} failed with HTTP {status}.", "server_error", null, null),
            _ => new ApiError($"{what} was refused with HTTP {status}.", "invalid_request_error", null, null),
        };
    }

    /// <summary>
    /// The message without the " (Parameter 'x')" that <see cref="ArgumentException.Message"/> appends: the
    /// parameter's internal name means nothing to an HTTP client (the error's <c>param</c> names the field).
    /// </summary>
    public static string MessageOf(ArgumentException exception) =>
        exception.ParamName is { } name ? exception.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : exception.Message;

    public static Task WriteAsync(HttpContext context, int status, ApiError error, int? retryAfterSeconds = null)
    {
        context.Response.StatusCode = status;
        if (retryAfterSeconds is { } s)
            context.Response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return context.Response.WriteAsJsonAsync(new ApiErrorResponse(error), GatewayJson.Options, context.RequestAborted);
    }
}

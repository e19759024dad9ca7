using Microsoft.Extensions.Options;
using OrleansLora.Server.Http;

namespace OrleansLora.Server.Hosting.Drain;

/// <summary>
/// Counts the requests in flight so a stopping silo can wait for them, and once it drains refuses new ones with
/// 503 and Retry-After (the client retries on another replica; /ready already tells the load balancer to stop sending).
/// Probes and metric scrapes pass untouched: the orchestrator must keep seeing the silo's state.
/// </summary>
public sealed class DrainMiddleware(RequestDelegate next, DrainState state, IOptions<DrainOptions> options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<PublicEndpoint>() is not null || context.Request.Path == "/metrics")
        {
            await next(context);
            return;
        }
        if (state.IsDraining)
        {
            var error = new ApiError("this server is shutting down and admits no new requests; retry (another replica will serve it).", "service_unavailable_error", null, "draining");
            await ErrorMapping.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, error, options.Value.RetryAfterSeconds);
            return;
        }
        state.Enter();
        try
        {
            await next(context);
        }
        finally
        {
            state.Exit();
        }
    }
}

using System.Reflection;
using Microsoft.Extensions.Options;
using OrleansLora.Engine.Generation;
using OrleansLora.Server.Configuration;

namespace OrleansLora.Server.Http.Health;

/// <summary>
/// Probes (<c>/live</c> and <c>/health</c>: the process serves; <c>/ready</c>: this silo can serve, see
/// <see cref="SiloReadiness"/>) and <c>/info</c>.
/// </summary>
public static class HealthApi
{
    public static string Version { get; } =
        typeof(HealthApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The probes, open to everyone (load balancers and orchestrators carry no key).</summary>
    public static IEndpointRouteBuilder MapProbes(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", () => TypedResults.Ok(new { status = "ok" })).WithTags("Health").WithMetadata(PublicEndpoint.Instance);
        app.MapGet("/live", () => TypedResults.Ok(new { status = "ok" })).WithTags("Health").WithMetadata(PublicEndpoint.Instance);
        app.MapGet("/ready", Ready).WithTags("Health").WithMetadata(PublicEndpoint.Instance);
        return app;
    }

    public static IEndpointRouteBuilder MapInfo(this IEndpointRouteBuilder app)
    {
        app.MapGet("/info", Info).WithTags("Health").Produces<InfoResponse>();
        return app;
    }

    private static async Task<IResult> Ready(SiloReadiness readiness)
    {
        var report = await readiness.CheckAsync();
        if (!report.Ready)
        {
            var error = new ApiError(report.Reason ?? "not ready.", "service_unavailable_error", null, report.Code);
            return TypedResults.Json(new ApiErrorResponse(error), GatewayJson.Options, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        return TypedResults.Json(new { status = "ready", devices = report.Devices }, GatewayJson.Options);
    }

    private static async Task<InfoResponse> Info(ClusterView cluster, IOptions<InferenceEngineOptions> engine, IOptions<ServerOptions> server)
    {
        var loads = await cluster.LoadsAsync();
        var e = engine.Value;
        var devices = loads.OrderBy(l => l.Key, StringComparer.Ordinal)
            .Select(l => new DeviceInfo(l.Key, l.Silo.ToParsableString(), l.DeviceIndex, l.AdapterSlots, l.PinnedAdapters, l.RunningSequences, l.WaitingRequests,
                l.MaxBatchSize, l.TokensPerSecond, l.CachedAdapters.Count, l.PublishedAt, l.MaxLoras, l.SwapSlots, l.OccupiedSlots, l.RequestsPerSecond,
                l.DeviceKind, l.DeviceName, l.MemoryTotalBytes, l.MemoryUsedBytes))
            .ToList();
        return new InfoResponse(await cluster.BaseModelNameAsync(), e.MaxLoras, e.MaxLoraRank, e.MaxSequenceLength, server.Value.Role.ToString().ToLowerInvariant(), Version, devices);
    }
}

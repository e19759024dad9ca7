using Microsoft.Extensions.Options;
using OrleansLora.Devices;
using OrleansLora.Grains.Devices;
using OrleansLora.Server.Configuration;
using OrleansLora.Server.Hosting.Drain;

namespace OrleansLora.Server.Http.Health;

/// <summary>
/// Whether this silo should get traffic, judged per silo so an orchestrator takes out only the broken one: a
/// silo with devices is ready when every one of its own devices has published its load recently (its engine
/// serves and the cluster hears it); a gateway-only silo when some worker's device has. A draining silo never is.
/// </summary>
public sealed class SiloReadiness(
    ClusterView cluster,
    ILocalSiloDetails silo,
    LocalDevices devices,
    DrainState drain,
    IOptions<GatewayOptions> options,
    TimeProvider time)
{
    public async Task<ReadinessReport> CheckAsync()
    {
        if (drain.IsDraining)
            return new ReadinessReport(false, 0, "draining", "this silo is shutting down.");
        IReadOnlyList<DeviceLoad> loads;
        try
        {
            loads = await cluster.LoadsAsync();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not ready rather than a 500: the probe's answer is the state, the exception its reason.
            return new ReadinessReport(false, 0, "cluster_unreachable", $"the cluster's load record cannot be read: {ex.GetType().Name}.");
        }
        var now = time.GetUtcNow();
        var fresh = loads.Where(l => now - l.PublishedAt <= options.Value.ReadyLoadAge).ToList();
        if (devices.Count > 0)
        {
            int own = fresh.Count(l => l.Silo.Equals(silo.SiloAddress));
            // Ready reports every fresh device this silo knows (its view of the cluster), as for a gateway.
            return own >= devices.Count
                ? new ReadinessReport(true, fresh.Count, null, null)
                : new ReadinessReport(false, own, "not_ready", $"{own} of this silo's {devices.Count} devices have published their load: the silo cannot serve yet.");
        }
        return fresh.Count > 0
            ? new ReadinessReport(true, fresh.Count, null, null)
            : new ReadinessReport(false, 0, "not_ready", "no device has published its load yet: no worker silo is ready.");
    }
}

using Orleans.Concurrency;
using OrleansLora.Devices;

namespace OrleansLora.Grains;

/// <summary>
/// Cluster-wide view of device load (key 0): GPU grains publish their load every second; the adapter
/// placement director asks it to choose a silo, which it does one request at a time, so concurrent
/// placements see each other's reservations and no device is placed beyond its slots.
/// </summary>
public interface IClusterLoadGrain : IGrainWithIntegerKey
{
    [AlwaysInterleave]
    Task Publish(DeviceLoad load);

    /// <summary>Picks the silo for a new activation of <paramref name="adapterId"/> among <paramref name="candidates"/>; null when none has devices.</summary>
    Task<SiloAddress?> ChooseSilo(string adapterId, SiloAddress[] candidates);

    [AlwaysInterleave]
    Task<IReadOnlyList<DeviceLoad>> GetLoads();

    /// <summary>
    /// Records that a saturated device on <paramref name="silo"/> shed <paramref name="adapterId"/>: its next
    /// placements go to another silo with a free slot for a while, even though <paramref name="silo"/> still caches its weights.
    /// </summary>
    Task NoteShed(string adapterId, SiloAddress silo);
}

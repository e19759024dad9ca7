using Orleans.Concurrency;
using OrleansLora.Devices;

namespace OrleansLora.Grains;

/// <summary>
/// Cluster-wide view of device load (key 0): GPU grains publish their load every second; the adapter
/// placement director asks it to choose a silo, which it does one request at a time, so concurrent
/// placements see each other's reservations and no device is placed beyond its slots.
/// Every call is answered from memory at once; the short response timeouts keep a call that went to
/// a silo as it died from holding a publisher or a placement for the silo-wide ResponseTimeout.
/// </summary>
public interface IClusterLoadGrain : IGrainWithIntegerKey
{
    [AlwaysInterleave, ResponseTimeout("00:00:05")]
    Task Publish(DeviceLoad load);

    /// <summary>Picks the silo for a new activation of <paramref name="adapterId"/> among <paramref name="candidates"/>; null when none has devices.</summary>
    [ResponseTimeout("00:00:05")]
    Task<SiloAddress?> ChooseSilo(string adapterId, SiloAddress[] candidates);

    [AlwaysInterleave, ResponseTimeout("00:00:05")]
    Task<IReadOnlyList<DeviceLoad>> GetLoads();

    /// <summary>
    /// Records that a saturated device on <paramref name="silo"/> shed <paramref name="adapterId"/>: its next
    /// placements go to another silo with a free slot for a while, even though <paramref name="silo"/> still caches its weights.
    /// </summary>
    [ResponseTimeout("00:00:05")]
    Task NoteShed(string adapterId, SiloAddress silo);
}

using Orleans.Concurrency;
using OrleansLora.Devices;

namespace OrleansLora.Grains.Placement;

/// <summary>
/// The receiving end of load publishing on one silo (key: the silo's parsable address, placed on exactly that
/// silo): it writes what another silo published into this silo's <see cref="DeviceLoadView"/>. One per silo, so
/// no grain is reached by every device; a lost activation is re-created by the next publish.
/// </summary>
public interface ISiloLoadGrain : IGrainWithStringKey
{
    /// <summary>The loads of all of <paramref name="silo"/>'s devices (replacing what it published before).</summary>
    [OneWay, AlwaysInterleave]
    Task Receive(SiloAddress silo, IReadOnlyList<DeviceLoad> loads);

    /// <summary>As <see cref="Receive"/>, answered once applied: a pin change waits for it.</summary>
    [AlwaysInterleave]
    Task Apply(SiloAddress silo, IReadOnlyList<DeviceLoad> loads);
}

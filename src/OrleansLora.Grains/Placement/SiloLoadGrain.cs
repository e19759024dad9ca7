using Orleans.Concurrency;
using OrleansLora.Devices;

namespace OrleansLora.Grains.Placement;

/// <summary>Writes published loads into the silo-local view; holds nothing itself, so a re-created activation loses nothing.</summary>
[SiloPinnedPlacement, Reentrant]
public sealed class SiloLoadGrain(DeviceLoadView view) : Grain, ISiloLoadGrain
{
    public Task Receive(SiloAddress silo, IReadOnlyList<DeviceLoad> loads)
    {
        view.Update(silo, loads);
        return Task.CompletedTask;
    }

    public Task Apply(SiloAddress silo, IReadOnlyList<DeviceLoad> loads) => Receive(silo, loads);
}

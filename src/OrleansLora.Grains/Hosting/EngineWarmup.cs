using Microsoft.Extensions.DependencyInjection;
using OrleansLora.Grains.Devices;

namespace OrleansLora.Grains.Hosting;

/// <summary>Creates the device engines (loads the model) before the silo joins, so a bad model path fails start-up.</summary>
internal sealed class EngineWarmup(IServiceProvider services, LocalDevices devices) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(EngineWarmup), ServiceLifecycleStage.RuntimeInitialize, _ =>
        {
            if (devices.Count > 0)
                services.GetRequiredService<DeviceEngines>();
            return Task.CompletedTask;
        });
}

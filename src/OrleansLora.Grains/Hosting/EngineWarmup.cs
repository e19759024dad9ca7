using Microsoft.Extensions.DependencyInjection;
using OrleansLora.Grains.Devices;

namespace OrleansLora.Grains.Hosting;

/// <summary>Creates the device engines (loads the model) before the silo joins, so a bad model path fails start-up; measures their prompt bound.</summary>
internal sealed class EngineWarmup(IServiceProvider services, LocalDevices devices) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(EngineWarmup), ServiceLifecycleStage.RuntimeInitialize, _ =>
        {
            if (devices.Count > 0)
            {
                var engines = services.GetRequiredService<DeviceEngines>();
                // A pass over the vocabulary, done here rather than on the first request's grain turn.
                for (int i = 0; i < engines.Count; i++)
                    PromptLimits.MaxPromptChars(engines[i]);
            }
            return Task.CompletedTask;
        });
}

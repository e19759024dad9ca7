using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansLora.Adapters;
using OrleansLora.Devices;
using OrleansLora.Grains.Devices;
using OrleansLora.Grains.Storage;

namespace OrleansLora.Grains.Hosting;

/// <summary>
/// When the silo becomes active: starts a GPU grain per local device (they publish load for placement)
/// and lists the adapter store's directories in the catalog so they show up before first use.
/// </summary>
internal sealed partial class DeviceStartup(
    IGrainFactory grains,
    ILocalSiloDetails localSilo,
    LocalDevices devices,
    AdapterStore store,
    IOptions<AdapterStoreOptions> storeOptions,
    ILogger<DeviceStartup> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DeviceStartup), ServiceLifecycleStage.Active, StartAsync, _ => Task.CompletedTask);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (devices.Count == 0)
            return;
        for (int i = 0; i < devices.Count; i++)
            await grains.GetGrain<IGpuGrain>(DeviceKey.Format(localSilo.SiloAddress, i)).Start();
        if (storeOptions.Value.ListStoreInCatalog)
        {
            var catalog = grains.GetGrain<IAdapterCatalogGrain>(0);
            var ids = store.List();
            foreach (var id in ids)
                await catalog.Add(new AdapterRegistration(id, id));
            LogStoreListed(logger, ids.Count, store.Root);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listed {Count} adapters from the adapter store {Root}")]
    private static partial void LogStoreListed(ILogger logger, int count, string root);
}

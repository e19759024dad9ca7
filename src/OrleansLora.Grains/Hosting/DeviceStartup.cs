using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansLora.Adapters;
using OrleansLora.Grains.Devices;
using OrleansLora.Grains.Storage;

namespace OrleansLora.Grains.Hosting;

/// <summary>
/// When the silo becomes active, lists the adapter store's directories in the catalog so they show up before first
/// use. (Device load for placement is published by <see cref="Placement.DeviceLoadPublisher"/>; GPU grains activate on
/// first call and the engine, not the grain, holds the pins, so nothing needs to keep them alive.)
/// </summary>
internal sealed partial class DeviceStartup(
    IGrainFactory grains,
    LocalDevices devices,
    IServiceProvider services,
    ILogger<DeviceStartup> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DeviceStartup), ServiceLifecycleStage.Active, StartAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        // A gateway-only silo has no adapter store (nor needs one): resolved on workers only.
        if (devices.Count == 0 || !services.GetRequiredService<IOptions<AdapterStoreOptions>>().Value.ListStoreInCatalog)
            return;
        var store = services.GetRequiredService<AdapterStore>();
        var catalog = grains.GetGrain<IAdapterCatalogGrain>(0);
        var ids = store.List();
        foreach (var id in ids)
            await catalog.Add(new AdapterRegistration(id, id));
        LogStoreListed(logger, ids.Count, store.Root);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listed {Count} adapters from the adapter store {Root}")]
    private static partial void LogStoreListed(ILogger logger, int count, string root);
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansLora.Adapters;
using OrleansLora.Devices;
using OrleansLora.Grains.Devices;
using OrleansLora.Grains.Storage;

namespace OrleansLora.Grains.Hosting;

/// <summary>
/// When the silo becomes active: starts a GPU grain per local device (they publish load for placement)
/// and lists the adapter store's directories in the catalog so they show up before first use. Then,
/// until the silo stops, calls each GPU grain's Start every few seconds: placement only sees devices whose
/// grains publish, and nothing else would re-activate a GPU grain the runtime deactivated (after a silo
/// failure, the kill test saw a survivor's device stop publishing for good). A re-created GPU grain is harmless:
/// the engine, not the grain, holds the pins.
/// </summary>
internal sealed partial class DeviceStartup(
    IGrainFactory grains,
    ILocalSiloDetails localSilo,
    LocalDevices devices,
    AdapterStore store,
    IOptions<AdapterStoreOptions> storeOptions,
    TimeProvider time,
    ILogger<DeviceStartup> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private static readonly TimeSpan WatchPeriod = TimeSpan.FromSeconds(2);
    private readonly CancellationTokenSource _stopping = new();
    private Task _watch = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DeviceStartup), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (devices.Count == 0)
            return;
        for (int i = 0; i < devices.Count; i++)
            await Device(i).Start();
        if (storeOptions.Value.ListStoreInCatalog)
        {
            var catalog = grains.GetGrain<IAdapterCatalogGrain>(0);
            var ids = store.List();
            foreach (var id in ids)
                await catalog.Add(new AdapterRegistration(id, id));
            LogStoreListed(logger, ids.Count, store.Root);
        }
        _watch = WatchAsync(_stopping.Token);
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _watch;
    }

    private async Task WatchAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(WatchPeriod, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                for (int i = 0; i < devices.Count && !stopping.IsCancellationRequested; i++)
                {
                    try
                    {
                        await Device(i).Start();
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogWatchFailed(logger, ex, i);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private IGpuGrain Device(int index) => grains.GetGrain<IGpuGrain>(DeviceKey.Format(localSilo.SiloAddress, index));

    [LoggerMessage(Level = LogLevel.Information, Message = "Listed {Count} adapters from the adapter store {Root}")]
    private static partial void LogStoreListed(ILogger logger, int count, string root);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not reach the GPU grain of local device {Device}; retrying")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception, int device);
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansLora.Devices;
using OrleansLora.Engine.Generation;
using OrleansLora.Grains.Devices;
using OrleansLora.Grains.Metrics;

namespace OrleansLora.Grains.Placement;

/// <summary>
/// Every <see cref="WorkerOptions.LoadPublishPeriod"/>, reads this silo's devices' load from their engines and sends
/// it to every active silo's <see cref="ISiloLoadGrain"/> (one-way; Orleans' DeploymentLoadPublisher does the same with
/// silo statistics), so each silo's <see cref="DeviceLoadView"/> decides placement locally. Its own view is updated
/// first, before the silo takes traffic. Then it lets <see cref="AdapterRebalancer"/> shed or rebalance. On every silo
/// (a gateway-only one publishes nothing) it drops silos that left the membership from the view.
/// </summary>
internal sealed partial class DeviceLoadPublisher(
    IServiceProvider services,
    LocalDevices devices,
    DeviceAdapterLists adapterLists,
    ILocalSiloDetails localSilo,
    IClusterMembershipService membership,
    IGrainFactory grains,
    DeviceLoadView view,
    AdapterTraffic traffic,
    AdapterRebalancer rebalancer,
    OrleansLoraMetrics metrics,
    IOptions<WorkerOptions> worker,
    TimeProvider time,
    ILogger<DeviceLoadPublisher> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(DeviceLoadPublisher), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        await PublishOnce(cancellationToken);
        _loop = LoopAsync(_stopping.Token);
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loop;
        foreach (var load in view.Fresh().Where(l => l.Silo.Equals(localSilo.SiloAddress)))
            metrics.RemoveDevice(load.Key);
    }

    private async Task LoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(worker.Value.LoadPublishPeriod, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                try
                {
                    await PublishOnce(stopping);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogPublishFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task PublishOnce(CancellationToken cancellationToken)
    {
        var self = localSilo.SiloAddress;
        var members = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToHashSet();
        members.Add(self);
        view.Retain(members);
        if (devices.Count == 0)
            return;
        var engines = services.GetRequiredService<DeviceEngines>();
        var rates = traffic.Rates();
        var now = time.GetUtcNow();
        var loads = new DeviceLoad[devices.Count];
        var waiting = new IReadOnlyDictionary<string, int>[devices.Count];
        for (int i = 0; i < devices.Count; i++)
        {
            var lists = await adapterLists.ReadAsync(engines[i], i, cancellationToken);
            if (lists.Late)
                LogCachedListLate(logger, i, DeviceAdapterLists.Wait);
            int device = i;
            loads[i] = DeviceLoadReader.Read(engines, i, self, lists.Cached, lists.Pinned, rates.Where(r => r.Device == device).Sum(r => r.RequestsPerSecond), now);
            waiting[i] = engines[i].Statistics.WaitingByAdapter;
            metrics.ReportDevice(loads[i]);
        }
        view.Update(self, loads);
        foreach (var silo in members.Where(m => !m.Equals(self)))
            grains.GetGrain<ISiloLoadGrain>(silo.ToParsableString()).Receive(self, loads).Ignore();
        await rebalancer.Tick(loads, waiting, rates);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish this silo's device load")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Device {Device}: the engine did not list its adapters within {Wait}; publishing the previous lists")]
    private static partial void LogCachedListLate(ILogger logger, int device, TimeSpan wait);
}

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
/// A pin taken or released publishes at once as well (<see cref="PublishPinChangeAsync"/>), and that publish waits
/// for the other silos to apply it: an activation placed through another silo right after this one's pin must see
/// the slot taken, else consecutive activations through two gateways land on one device and the last runs unpinned.
/// </summary>
internal sealed partial class DeviceLoadPublisher(
    IServiceProvider services,
    LocalDevices devices,
    DeviceAdapterLists adapterLists,
    ILocalSiloDetails localSilo,
    IClusterMembershipService membership,
    IGrainFactory grains,
    DeviceLoadView view,
    AbandonedPlacements abandoned,
    AdapterTraffic traffic,
    AdapterRebalancer rebalancer,
    OrleansLoraMetrics metrics,
    IOptions<WorkerOptions> worker,
    TimeProvider time,
    ILogger<DeviceLoadPublisher> logger) : ILifecycleParticipant<ISiloLifecycle>, IPinChangePublisher
{
    /// <summary>How long a pin change waits for the other silos to apply its publish; past it, the next periodic one carries it.</summary>
    public static readonly TimeSpan PinChangeWait = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// A silo that did not apply a pin change within the wait is not waited for again this long (it still gets every
    /// publish, one-way): a partitioned silo stays Active in the membership for seconds, and every activation in
    /// that time would otherwise pay the whole wait.
    /// </summary>
    public static readonly TimeSpan SlowSiloPause = TimeSpan.FromSeconds(10);

    private readonly Dictionary<SiloAddress, DateTimeOffset> _slowUntil = [];
    private long _sequence; // under _publishing

    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _publishing = new(1, 1); // one publish at a time, so each silo's loads arrive in order
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

    /// <summary>
    /// Waits for the other silos at most <see cref="PinChangeWait"/> from sending, and not for a silo that missed it
    /// recently: one that does not answer in time gets the change with the next periodic publish. Behind another
    /// publish it waits at most <see cref="PinChangeWait"/> plus one list read for its turn, then leaves the change
    /// to the periodic publish.
    /// </summary>
    public async Task PublishPinChangeAsync()
    {
        try
        {
            await Publish(awaitReceivers: true, _stopping.Token);
        }
        catch (Exception ex)
        {
            LogPinChangeNotPublished(logger, ex.GetType().Name);
        }
    }

    private async Task PublishOnce(CancellationToken cancellationToken)
    {
        var published = await Publish(awaitReceivers: false, cancellationToken);
        if (published is { } p)
            await rebalancer.Tick(p.Loads, p.Waiting, p.Rates);
    }

    private async Task<(DeviceLoad[] Loads, IReadOnlyDictionary<string, int>[] Waiting, IReadOnlyList<AdapterRate> Rates)?> Publish(bool awaitReceivers, CancellationToken cancellationToken)
    {
        var self = localSilo.SiloAddress;
        var members = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToHashSet();
        members.Add(self);
        view.Retain(members);
        if (devices.Count == 0)
            return null;
        if (!awaitReceivers)
            await _publishing.WaitAsync(cancellationToken);
        else if (!await _publishing.WaitAsync(PinChangeWait + DeviceAdapterLists.Wait, cancellationToken))
            return null;
        try
        {
            foreach (var left in _slowUntil.Keys.Where(k => !members.Contains(k)).ToList())
                _slowUntil.Remove(left);
            var engines = services.GetRequiredService<DeviceEngines>();
            var rates = traffic.Rates();
            var gone = abandoned.Recent();
            var now = time.GetUtcNow();
            long sequence = ++_sequence;
            var loads = new DeviceLoad[devices.Count];
            var waiting = new IReadOnlyDictionary<string, int>[devices.Count];
            for (int i = 0; i < devices.Count; i++)
            {
                var lists = await adapterLists.ReadAsync(engines[i], i, cancellationToken);
                if (lists.Late)
                    LogCachedListLate(logger, i, DeviceAdapterLists.Wait);
                int device = i;
                loads[i] = DeviceLoadReader.Read(engines, i, self, lists.Cached, lists.Pinned, rates.Where(r => r.Device == device).Sum(r => r.RequestsPerSecond), now)
                    with { AbandonedAdapters = gone, Sequence = sequence };
                waiting[i] = engines[i].Statistics.WaitingByAdapter;
                metrics.ReportDevice(loads[i]);
            }
            view.Update(self, loads);
            var waited = new List<(SiloAddress Silo, Task Applied)>();
            foreach (var silo in members.Where(m => !m.Equals(self)))
            {
                var grain = grains.GetGrain<ISiloLoadGrain>(silo.ToParsableString());
                if (awaitReceivers && !(_slowUntil.TryGetValue(silo, out var until) && until > now))
                    waited.Add((silo, grain.Apply(self, loads)));
                else
                    grain.Receive(self, loads).Ignore();
            }
            if (waited.Count > 0)
                await AwaitApplied(waited, cancellationToken);
            return (loads, waiting, rates);
        }
        finally
        {
            _publishing.Release();
        }
    }

    /// <summary>
    /// Waits up to <see cref="PinChangeWait"/> for the silos sent a pin change, and marks those still silent as slow.
    /// One that failed has answered (at once): nothing to skip next time. Called under <c>_publishing</c>.
    /// </summary>
    private async Task AwaitApplied(List<(SiloAddress Silo, Task Applied)> waited, CancellationToken cancellationToken)
    {
        var all = Task.WhenAll(waited.Select(w => w.Applied));
        all.Ignore(); // a silo that answers late, or fails, is the periodic publish's to reach
        try
        {
            await all.WaitAsync(PinChangeWait, time, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Timed out, or some silo failed: sorted out below.
        }
        foreach (var (silo, applied) in waited)
        {
            if (applied.IsCompleted)
                _slowUntil.Remove(silo);
            else
                _slowUntil[silo] = time.GetUtcNow() + SlowSiloPause;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish this silo's device load")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A pin change was not applied by every silo within the wait ({Reason}); the next periodic publish carries it")]
    private static partial void LogPinChangeNotPublished(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Device {Device}: the engine did not list its adapters within {Wait}; publishing the previous lists")]
    private static partial void LogCachedListLate(ILogger logger, int device, TimeSpan wait);
}

using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Placement;
using OrleansLora.Adapters;
using OrleansLora.Devices;
using OrleansLora.Engine.Generation;
using OrleansLora.Errors;
using OrleansLora.Generation;
using OrleansLora.Grains.Metrics;
using OrleansLora.Grains.Placement;
using OrleansLora.Grains.Storage;

namespace OrleansLora.Grains.Devices;

/// <summary>
/// The handle of one device's <see cref="InferenceEngine"/>. Reentrant: every call only queues work for
/// the engine's thread or awaits it, so grain turns never block on compute. Kept alive, never migrated,
/// and placed on the silo named in its key. It keeps no pin list of its own: the engine is the only record
/// of pins, so an activation the runtime dropped and re-created (directory recovery after a silo left)
/// starts with the truth and a repeated pin is harmless.
/// </summary>
[SiloPinnedPlacement, Immovable, KeepAlive, Reentrant]
public sealed partial class GpuGrain(
    DeviceEngines devices,
    ILocalSiloDetails localSilo,
    AdapterStore store,
    IOptions<WorkerOptions> worker,
    OrleansLoraMetrics metrics,
    TimeProvider time,
    ILogger<GpuGrain> logger) : Grain, IGpuGrain
{
    private readonly Dictionary<string, string> _sources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task<AdapterInfo>> _registering = new(StringComparer.Ordinal);
    private InferenceEngine _engine = null!;
    private int _device;
    private DateTimeOffset? _saturatedSince;
    private IReadOnlyList<string> _cached = [];
    private IReadOnlyList<string> _pinnedIds = []; // the engine's answer at the last publish, for shedding

    private long? _publishStarted;
    private string _publishPhase = "";

    private static readonly TimeSpan CachedListWait = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan SlowPublish = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan StuckPublish = TimeSpan.FromSeconds(10);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        string key = this.GetPrimaryKeyString();
        if (!DeviceKey.TryParse(key, out var silo, out _device) || !silo.Equals(localSilo.SiloAddress))
            throw new InvalidOperationException($"GPU grain \"{key}\" activated on silo {localSilo.SiloAddress}, which does not own it.");
        if (_device >= devices.Count)
            throw new InvalidOperationException($"GPU grain \"{key}\": this silo has {devices.Count} devices.");
        _engine = devices[_device];
        this.RegisterGrainTimer(PublishLoad, new GrainTimerCreationOptions(TimeSpan.Zero, worker.Value.LoadPublishPeriod) { Interleave = true, KeepAlive = true });
        LogActivated(logger, key, devices.PinnableSlots);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Kept alive: only a silo shutdown or the runtime (directory recovery after a silo failure)
        // deactivates it. The silo's DeviceStartup watchdog calls Start() again, which re-activates it.
        var level = reason.ReasonCode == DeactivationReasonCode.ShuttingDown ? LogLevel.Debug : LogLevel.Warning;
        LogDeactivated(logger, level, this.GetPrimaryKeyString(), reason.ToString());
        metrics.RemoveDevice(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    /// <summary>
    /// Activates the grain (the silo calls it at start-up and then every few seconds, so an activation the
    /// runtime dropped comes back and publishes again) and reports a publish that has not finished.
    /// </summary>
    public Task Start()
    {
        if (_publishStarted is { } started && time.GetElapsedTime(started) is var running && running > StuckPublish)
            LogPublishStuck(logger, this.GetPrimaryKeyString(), running.TotalSeconds, _publishPhase);
        return Task.CompletedTask;
    }

    public async Task<AdapterPin> Pin(string adapterId, string source, CancellationToken cancellationToken = default)
    {
        var info = await EnsureRegistered(adapterId, source);
        try
        {
            // The engine decides, atomically between steps: an adapter pinned already stays pinned once, and the
            // swap slots are never pinned, so adapters beyond the pinnable slots still get a slot to run in.
            bool pinned = await _engine.PinOnceAsync(adapterId, devices.PinnableSlots, cancellationToken);
            return new AdapterPin(info, pinned);
        }
        catch (InvalidOperationException ex) when (ex.InnerException is { } cause && IsAdapterFileError(cause))
        {
            // The weights were read for the slot and refused (the files changed since registration).
            throw new AdapterValidationException(adapterId, cause.Message);
        }
    }

    public async Task Unpin(string adapterId)
    {
        if (_engine.IsAdapterRegistered(adapterId))
            await _engine.ReleasePinsAsync(adapterId);
    }

    public async Task Unregister(string adapterId)
    {
        await Unpin(adapterId);
        _registering.Remove(adapterId);
        _sources.Remove(adapterId);
        if (_engine.IsAdapterRegistered(adapterId))
            await _engine.UnregisterAdapterAsync(adapterId);
    }

    public Task<AdapterInfo> Validate(string adapterId, string source) => EnsureRegistered(adapterId, source);

    public IAsyncEnumerable<GenerateChunk> Submit(string? adapterId, GenerateRequest request, CancellationToken cancellationToken = default) =>
        EngineRequests.Submit(_engine, adapterId, request, cancellationToken);

    public Task<DeviceLoad> GetLoad() => Task.FromResult(CurrentLoad([]));

    private DeviceLoad CurrentLoad(IReadOnlyList<string> cached)
    {
        var s = _engine.Statistics;
        return new DeviceLoad
        {
            Silo = localSilo.SiloAddress,
            DeviceIndex = _device,
            AdapterSlots = devices.PinnableSlots,
            PinnedAdapters = s.AdapterSlotsPinned,
            RunningSequences = s.RunningSequences,
            WaitingRequests = s.WaitingRequests,
            MaxBatchSize = devices.Options.MaxBatchSize,
            TokensPerSecond = s.TokensPerSecond,
            StepMilliseconds = s.LastStepMilliseconds,
            AdapterLoads = s.AdapterLoads,
            AdapterEvictions = s.AdapterEvictions,
            CachedAdapters = cached,
            PublishedAt = time.GetUtcNow(),
            BaseModel = devices.BaseModelName,
        };
    }

    private async Task PublishLoad(CancellationToken cancellationToken)
    {
        long started = time.GetTimestamp();
        _publishStarted = started;
        _publishPhase = "engine adapter list";
        try
        {
            // The cached list comes from the engine's control queue, served between steps; a step that
            // runs long must not stop the load (which placement needs within seconds) from going out.
            try
            {
                var adapters = await _engine.GetAdaptersAsync(cancellationToken).WaitAsync(CachedListWait, cancellationToken);
                _cached = adapters.Where(a => a.Residency != AdapterResidencyLevel.Disk).Select(a => a.AdapterId).ToList();
                _pinnedIds = adapters.Where(a => a.Pins > 0).Select(a => a.AdapterId).ToList();
            }
            catch (TimeoutException)
            {
                LogCachedListLate(logger, this.GetPrimaryKeyString(), CachedListWait);
            }
            var load = CurrentLoad(_cached);
            metrics.ReportDevice(load);
            _publishPhase = "publish";
            var cluster = GrainFactory.GetGrain<IClusterLoadGrain>(0);
            await cluster.Publish(load);
            _publishPhase = "shedding";
            await ShedIfSaturated(load, cluster);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPublishFailed(logger, ex, this.GetPrimaryKeyString(), _publishPhase);
        }
        _publishStarted = null;
        var elapsed = time.GetElapsedTime(started);
        if (elapsed > SlowPublish)
            LogPublishSlow(logger, this.GetPrimaryKeyString(), elapsed.TotalMilliseconds, _publishPhase);
        else
            LogPublished(logger, this.GetPrimaryKeyString(), elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// A device that stays saturated while another device has room asks one of its pinned adapters with
    /// waiting work to deactivate when idle, and the cluster load grain to place it elsewhere next time.
    /// </summary>
    private async Task ShedIfSaturated(DeviceLoad load, IClusterLoadGrain cluster)
    {
        bool saturated = load.WaitingRequests > 0 && load.RunningSequences >= load.MaxBatchSize;
        if (!saturated || _pinnedIds.Count < 2)
        {
            _saturatedSince = null;
            return;
        }
        _saturatedSince ??= time.GetUtcNow();
        if (time.GetUtcNow() - _saturatedSince < worker.Value.ShedAfter)
            return;
        var others = await cluster.GetLoads();
        if (!others.Any(o => o.Key != load.Key && o.FreeAdapterSlots > 0 && o.WaitingRequests == 0))
            return;
        // Only moving an adapter that has queued work relieves the device; of those, the one with the
        // least queued work, since its requests finish here before it deactivates.
        var waiting = _engine.Statistics.WaitingByAdapter;
        string? victim = _pinnedIds.Where(id => waiting.GetValueOrDefault(id) > 0)
            .OrderBy(id => waiting[id]).ThenBy(id => id, StringComparer.Ordinal).FirstOrDefault();
        if (victim is null)
            return;
        LogShedding(logger, this.GetPrimaryKeyString(), victim);
        _saturatedSince = null;
        await cluster.NoteShed(victim, load.Silo);
        await GrainFactory.GetGrain<IAdapterGrain>(victim).Shed();
    }

    private Task<AdapterInfo> EnsureRegistered(string adapterId, string source)
    {
        AdapterIds.Validate(adapterId);
        if (_registering.TryGetValue(adapterId, out var pending) && _sources.GetValueOrDefault(adapterId) == source && !pending.IsFaulted)
            return pending;
        var task = Register(adapterId, source);
        _registering[adapterId] = task;
        _sources[adapterId] = source;
        return task;
    }

    /// <summary>
    /// Everything that touches the adapter's files runs off the grain's turn and within
    /// <see cref="AdapterStore.ReadTimeout"/>: a slow or hostile file fails this registration with
    /// <see cref="AdapterValidationException"/>, never the device's grain (which also publishes the
    /// device's load for placement).
    /// </summary>
    private async Task<AdapterInfo> Register(string adapterId, string source)
    {
        string directory = await OffTurn(adapterId, () => ResolveDirectory(adapterId, source));
        if (_engine.IsAdapterRegistered(adapterId))
        {
            // Registered earlier from another source (re-registration): replace it.
            var known = (await _engine.GetAdaptersAsync()).FirstOrDefault(a => a.AdapterId == adapterId);
            if (known is not null && Path.GetFullPath(known.Directory) != directory)
            {
                await _engine.ReleasePinsAsync(adapterId); // the adapter grain pins the new weights again
                await _engine.UnregisterAdapterAsync(adapterId);
            }
        }
        if (!_engine.IsAdapterRegistered(adapterId))
        {
            try
            {
                await OffTurn(adapterId, () => _engine.RegisterAdapter(adapterId, directory));
            }
            catch (Exception ex) when (IsAdapterFileError(ex))
            {
                if (!_engine.IsAdapterRegistered(adapterId))
                    throw new AdapterValidationException(adapterId, ex.Message);
            }
        }
        var status = (await _engine.GetAdaptersAsync()).First(a => a.AdapterId == adapterId);
        var baseModel = await OffTurn(adapterId, () => ReadBaseModelName(directory));
        return new AdapterInfo(status.Rank, status.LoraAlpha, status.UseRsLora, status.TargetModules, status.ByteSize, baseModel);
    }

    private string ResolveDirectory(string adapterId, string source)
    {
        string directory;
        try
        {
            directory = store.Resolve(source);
        }
        catch (ArgumentException ex)
        {
            throw new AdapterValidationException(adapterId, ex.Message);
        }
        if (!Directory.Exists(directory))
            throw new AdapterNotFoundException(adapterId);
        return directory;
    }

    private Task OffTurn(string adapterId, Action read) => OffTurn(adapterId, () =>
    {
        read();
        return true;
    });

    private async Task<T> OffTurn<T>(string adapterId, Func<T> read)
    {
        var reading = Task.Run(read);
        try
        {
            return await reading.WaitAsync(store.ReadTimeout);
        }
        catch (TimeoutException) when (!reading.IsCompleted)
        {
            LogAdapterReadTimedOut(logger, this.GetPrimaryKeyString(), adapterId, store.ReadTimeout.TotalSeconds);
            throw new AdapterValidationException(adapterId, $"reading its files took longer than {store.ReadTimeout.TotalSeconds:0.#} s ({AdapterStoreOptions.SectionName}:ReadTimeout); is the adapter store on a slow or unreachable file system?");
        }
    }

    /// <summary>What reading or validating an adapter's files can throw (the message says what was wrong).</summary>
    private static bool IsAdapterFileError(Exception ex) =>
        ex is Engine.Models.ModelFormatException or ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException;

    private string? ReadBaseModelName(string directory)
    {
        try
        {
            return Engine.Adapters.PeftAdapterConfig.Load(directory, new Engine.Adapters.AdapterLoadOptions { Sandbox = store.Sandbox }).BaseModelNameOrPath;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Engine.Models.ModelFormatException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "GPU grain {Key} active with {Slots} pinnable adapter slots")]
    private static partial void LogActivated(ILogger logger, string key, int slots);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GPU grain {Key} could not publish its load (failed at: {Phase})")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string key, string phase);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GPU grain {Key}: publishing its load took {Milliseconds:F0} ms (last phase: {Phase}); placement treats loads older than 5 s as gone")]
    private static partial void LogPublishSlow(ILogger logger, string key, double milliseconds, string phase);

    [LoggerMessage(Message = "GPU grain {Key} deactivated ({Reason})")]
    private static partial void LogDeactivated(ILogger logger, LogLevel level, string key, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GPU grain {Key}: a load publish has run for {Seconds:F0} s (phase: {Phase}); placement treats loads older than 5 s as gone")]
    private static partial void LogPublishStuck(ILogger logger, string key, double seconds, string phase);

    [LoggerMessage(Level = LogLevel.Trace, Message = "GPU grain {Key} published its load in {Milliseconds:F1} ms")]
    private static partial void LogPublished(ILogger logger, string key, double milliseconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "GPU grain {Key}: the engine did not list its adapters within {Wait}; publishing the previous cached list")]
    private static partial void LogCachedListLate(ILogger logger, string key, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GPU grain {Key}: reading adapter {AdapterId}'s files took longer than {Seconds} s; its registration is refused")]
    private static partial void LogAdapterReadTimedOut(ILogger logger, string key, string adapterId, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "GPU grain {Key} is saturated; shedding adapter {AdapterId}")]
    private static partial void LogShedding(ILogger logger, string key, string adapterId);
}

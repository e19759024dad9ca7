using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Placement;
using OrleansLora.Adapters;
using OrleansLora.Devices;
using OrleansLora.Engine.Generation;
using OrleansLora.Errors;
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
    HeldPins held,
    DeviceAdapterLists adapterLists,
    ILocalSiloDetails localSilo,
    AdapterStore store,
    IPinChangePublisher publisher,
    TimeProvider time,
    ILogger<GpuGrain> logger) : Grain, IGpuGrain
{
    private readonly Dictionary<string, string> _sources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task<AdapterInfo>> _registering = new(StringComparer.Ordinal);
    private InferenceEngine _engine = null!;
    private int _device;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        string key = this.GetPrimaryKeyString();
        if (!DeviceKey.TryParse(key, out var silo, out _device) || !silo.Equals(localSilo.SiloAddress))
            throw new InvalidOperationException($"GPU grain \"{key}\" activated on silo {localSilo.SiloAddress}, which does not own it.");
        if (_device >= devices.Count)
            throw new InvalidOperationException($"GPU grain \"{key}\": this silo has {devices.Count} devices.");
        _engine = devices[_device];
        LogActivated(logger, key, devices.PinnableSlots);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Kept alive: only a silo shutdown or the runtime (directory recovery after a silo failure) deactivates
        // it; the next call re-activates it, and the engine still holds the pins.
        var level = reason.ReasonCode == DeactivationReasonCode.ShuttingDown ? LogLevel.Debug : LogLevel.Warning;
        LogDeactivated(logger, level, this.GetPrimaryKeyString(), reason.ToString());
        return Task.CompletedTask;
    }

    public async Task<AdapterPin> Pin(string adapterId, string source, CancellationToken cancellationToken = default)
    {
        var info = await EnsureRegistered(adapterId, source);
        // Claimed before the pin call, so a held pin is never released under it; put back if the pin fails.
        bool claimed = held.Claim(_device, adapterId);
        try
        {
            // The engine decides, atomically between steps: an adapter pinned already stays pinned once, and the
            // swap slots are never pinned, so adapters beyond the pinnable slots still get a slot to run in.
            bool pinned = await _engine.PinOnceAsync(adapterId, devices.PinnableSlots, cancellationToken);
            await publisher.PublishPinChangeAsync(); // the next placement, through any silo, sees the slot taken
            return new AdapterPin(info, pinned);
        }
        catch (Exception ex)
        {
            if (claimed)
                held.Hold(_device, adapterId); // still not this activation's: released after the grace as before
            // The weights were read for the slot and refused (the files changed since registration).
            if (ex is InvalidOperationException { InnerException: { } cause } && IsAdapterFileError(cause))
                throw new AdapterValidationException(adapterId, cause.Message);
            throw;
        }
    }

    public async Task Unpin(string adapterId)
    {
        held.Claim(_device, adapterId);
        if (_engine.IsAdapterRegistered(adapterId))
        {
            await _engine.ReleasePinsAsync(adapterId);
            await publisher.PublishPinChangeAsync();
        }
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

    public async Task<DeviceLoad> GetLoad()
    {
        // The pinned ids let an adapter that lost its activation (not its pin) choose this device again; placement
        // must not wait on a long step, so past a short wait the last list read stands in (pins change rarely).
        var lists = await adapterLists.ReadAsync(_engine, _device);
        return DeviceLoadReader.Read(devices, _device, localSilo.SiloAddress, [], lists.Pinned, 0, time.GetUtcNow());
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
    /// device's pins and registrations).
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
        string directory = store.Resolve(source); // AdapterSourceRefusedException when the store refuses it
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

    [LoggerMessage(Message = "GPU grain {Key} deactivated ({Reason})")]
    private static partial void LogDeactivated(ILogger logger, LogLevel level, string key, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GPU grain {Key}: reading adapter {AdapterId}'s files took longer than {Seconds} s; its registration is refused")]
    private static partial void LogAdapterReadTimedOut(ILogger logger, string key, string adapterId, double seconds);
}

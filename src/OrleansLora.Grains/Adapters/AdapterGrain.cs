using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime.Placement;
using Orleans.Storage;
using OrleansLora.Adapters;
using OrleansLora.Devices;
using OrleansLora.Errors;
using OrleansLora.Generation;
using OrleansLora.Grains.Deadlines;
using OrleansLora.Grains.Devices;
using OrleansLora.Grains.Metrics;
using OrleansLora.Grains.Placement;
using OrleansLora.Grains.Storage;

namespace OrleansLora.Grains.Adapters;

/// <summary>
/// One adapter (or, keyed <see cref="AdapterIds.BaseModel"/>, the base model alone). Activation picks the
/// least-loaded device on its silo and pins the weights there (read by the silo from the adapter store);
/// deactivation unpins them. Generations stream from that device's engine; concurrent ones interleave.
/// An id the store holds but nobody registered is registered on first use (LoRAX's local source).
/// Every wait of a request has a deadline (<see cref="DeadlineOptions"/>): placement, first token, next token.
/// </summary>
[AdapterPlacement, Immovable]
public sealed partial class AdapterGrain(
    [PersistentState("adapter", GrainStorageNames.Adapters)] IPersistentState<AdapterState> state,
    LocalDevices localDevices,
    DeviceEngines engines,
    HeldPins heldPins,
    AdapterStore store,
    ILocalSiloDetails localSilo,
    OrleansLoraMetrics metrics,
    RequestDeadlines deadlines,
    AdapterTraffic traffic,
    DeviceLoadView loads,
    AbandonedPlacements abandoned,
    IOptions<WorkerOptions> worker,
    TimeProvider time,
    ILogger<AdapterGrain> logger) : Grain, IAdapterGrain
{
    private static readonly TimeSpan PersistPeriod = TimeSpan.FromSeconds(10);
    private string _id = "";
    private bool _isBase;
    private string? _deviceKey;
    private bool _pinned;
    private Task? _placing;
    private int _active;
    private bool _shedRequested, _dirty;
    private SiloAddress? _moveTo; // where rebalancing or shedding asked this adapter to go

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _id = this.GetPrimaryKeyString();
        _isBase = _id == AdapterIds.BaseModel;
        if (!_isBase && !state.State.Registered && AdapterIds.IsValid(_id) && localDevices.Count > 0 && await InStore(_id))
            await RegisterCore(new AdapterRegistration(_id, _id), validate: false);
        this.RegisterGrainTimer(PersistCounters, new GrainTimerCreationOptions(PersistPeriod, PersistPeriod) { KeepAlive = false });
        if (_isBase || state.State.Registered)
        {
            // Pin now so the first request finds the weights in place; a failure is reported to that request.
            _placing = PlaceOnDevice();
            try
            {
                await _placing;
            }
            catch (Exception ex)
            {
                LogPinFailed(logger, ex, _id);
                if (_deviceKey is null)
                    abandoned.Add(_id); // the slot placement reserved for it here is free
            }
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // When the silo stops, its engines stop with it: unpinning would call a GPU grain that is
        // already gone (retries and warnings on every Ctrl+C) for nothing.
        bool siloStopping = reason.ReasonCode == DeactivationReasonCode.ShuttingDown;
        if (_pinned && _deviceKey is not null && reason.ReasonCode == DeactivationReasonCode.DirectoryFailure
            && DeviceKey.TryParse(_deviceKey, out var silo, out int device) && silo.Equals(localSilo.SiloAddress))
        {
            // The runtime dropped this activation because a silo that left held its directory entry; the next call
            // re-creates it and placement sends it back to its pin. Releasing the pin now would let another adapter,
            // placed from loads a publish old, take the slot, and this one would come back unpinned.
            heldPins.Hold(device, _id);
        }
        else if (_pinned && _deviceKey is not null && !siloStopping)
        {
            try
            {
                await GrainFactory.GetGrain<IGpuGrain>(_deviceKey).Unpin(_id);
            }
            catch (Exception ex)
            {
                LogUnpinFailed(logger, ex, _id);
            }
        }
        _pinned = false;
        traffic.Forget(_id); // its load leaves this silo with it
        // In-memory storage lives in grains of the stopping silo: a write would only fail, loudly.
        bool storageStops = siloStopping && ServiceProvider.GetKeyedService<IGrainStorage>(GrainStorageNames.Adapters) is MemoryGrainStorage;
        if (_dirty && state.State.Registered && !storageStops)
        {
            try
            {
                await state.WriteOrRecreateAsync(logger, _id, cancellationToken);
            }
            catch (Exception ex) when (siloStopping)
            {
                LogCountersNotSaved(logger, ex, _id);
            }
        }
        LogDeactivated(logger, _id, reason.ReasonCode.ToString());
    }

    public async IAsyncEnumerable<GenerateChunk> Generate(GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        long started = time.GetTimestamp();
        // An unregistered id fails below (not found); it must not take one of the bounded adapter tags.
        string tag = _isBase || state.State.Registered ? metrics.AdapterTag(_id) : AdapterTagLimiter.UnknownTag;
        string outcome = "cancelled";
        string? errorType = null;
        GenerateUsage? usage = null;
        bool first = true;
        _active++;
        try
        {
            // Refusals that end this activation come first, in the first response: after the acknowledgement the
            // deactivation could drop the enumeration and the caller would see it aborted instead of the error.
            try
            {
                RefuseIfUnservable();
            }
            catch (Exception ex)
            {
                outcome = "error";
                errorType = ex.GetType().Name;
                throw;
            }
            // Then, before anything that may wait: tells the caller the request reached a live activation
            // (GenerationStart bounds that wait; everything after it has the deadlines below).
            yield return GenerateChunk.Acceptance;
            try
            {
                await ReadyDevice(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                outcome = "error";
                errorType = ex.GetType().Name;
                throw;
            }
            metrics.RequestQueued(tag, time.GetElapsedTime(started).TotalMilliseconds);
            if (DeviceKey.TryParse(_deviceKey!, out _, out int deviceIndex))
                traffic.Record(_id, deviceIndex);
            using var deadline = deadlines.Create(cancellationToken);
            deadline.Start(DeadlinePhase.FirstToken);
            IAsyncEnumerator<GenerateChunk> stream;
            try
            {
                stream = Submit(request, deadline.Token).GetAsyncEnumerator(deadline.Token);
            }
            catch (Exception ex)
            {
                outcome = "error"; // refused before it started (not found, invalid): an error, never "cancelled"
                errorType = ex.GetType().Name;
                throw;
            }
            await using var chunks = stream;
            while (true)
            {
                try
                {
                    if (!await chunks.MoveNextAsync())
                        break;
                }
                catch (OperationCanceledException) when (deadline.Expired)
                {
                    var exceeded = deadline.Exceeded(_id);
                    LogDeadlineExceeded(logger, _id, exceeded.Phase, exceeded.Deadline);
                    outcome = "error";
                    errorType = nameof(DeadlineExceededException);
                    throw exceeded;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                catch (Exception ex)
                {
                    outcome = "error";
                    errorType = ex.GetType().Name;
                    throw;
                }
                var chunk = chunks.Current;
                if (first && chunk.TokenIds.Count > 0)
                {
                    first = false;
                    metrics.FirstToken(tag, time.GetElapsedTime(started).TotalMilliseconds);
                }
                if (chunk.Usage is { } u)
                {
                    usage = u;
                    outcome = "ok";
                }
                deadline.Pause(); // while the caller holds the chunk
                yield return chunk;
                deadline.Start(first ? DeadlinePhase.FirstToken : DeadlinePhase.NextToken);
            }
        }
        finally
        {
            _active--;
            Count(tag, outcome, errorType, usage, time.GetElapsedTime(started).TotalMilliseconds);
            if (_active == 0 && _shedRequested)
                Migrate();
        }
    }

    public async Task<AdapterDescription> Register(AdapterRegistration registration)
    {
        CheckRegistration(registration);
        await RegisterCore(registration with { Source = registration.Source ?? _id }, validate: true);
        return await Describe();
    }

    public async Task<AdapterDescription> RegisterIfNew(AdapterRegistration registration)
    {
        CheckRegistration(registration);
        string source = registration.Source ?? _id;
        if (state.State.Registered)
        {
            if (state.State.Source != source)
                throw new AdapterConflictException(_id, state.State.Source, source);
            return await Describe();
        }
        await RegisterCore(registration with { Source = source }, validate: true);
        return await Describe();
    }

    private void CheckRegistration(AdapterRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (_isBase)
            throw new InvalidRequestException($"\"{AdapterIds.BaseModel}\" names the base model; it cannot be registered as an adapter.", "lora_name");
        if (registration.AdapterId != _id)
            throw new InvalidRequestException($"registration for \"{registration.AdapterId}\" sent to adapter \"{_id}\".", "lora_name");
        if (!AdapterIds.IsValid(_id))
            throw new InvalidRequestException($"adapter id \"{_id}\" is not valid: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit.", "lora_name");
    }

    public Task<AdapterDescription> Describe()
    {
        if (!_isBase && !state.State.Registered)
            throw new AdapterNotFoundException(_id);
        return Task.FromResult(new AdapterDescription
        {
            AdapterId = _id,
            Source = _isBase ? "" : state.State.Source,
            Info = state.State.Info,
            CreatedAt = state.State.CreatedAt,
            Device = _deviceKey,
            Silo = _deviceKey is null ? null : localSilo.SiloAddress.ToParsableString(),
            Residency = _pinned ? "gpu" : _deviceKey is not null ? "host" : "disk",
            Counters = state.State.Counters,
            Pinned = state.State.Pinned,
        });
    }

    public async Task Unload()
    {
        if (!_isBase && !state.State.Registered)
            throw new AdapterNotFoundException(_id);
        if (_deviceKey is not null && !_isBase)
            await GrainFactory.GetGrain<IGpuGrain>(_deviceKey).Unregister(_id);
        _pinned = false;
        _deviceKey = null;
        _placing = null;
        if (!_isBase)
        {
            await GrainFactory.GetGrain<IAdapterCatalogGrain>(0).Remove(_id);
            await state.ClearOrForgetAsync();
            state.State = new AdapterState();
            _dirty = false;
        }
        DeactivateOnIdle();
    }

    public Task Shed()
    {
        // Placement would keep it here (this silo holds its weights), so choose among the other silos; alone, deactivate.
        var others = loads.Fresh().Select(l => l.Silo).Where(s => !s.Equals(localSilo.SiloAddress)).Distinct().ToList();
        var target = loads.Choose(_id, others);
        if (target is null)
        {
            DeactivateOnIdle();
            return Task.CompletedTask;
        }
        return Move(target);
    }

    public Task Move(SiloAddress target)
    {
        _shedRequested = true;
        _moveTo = target;
        if (_active == 0)
            Migrate();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Migrates rather than deactivates: a deactivated grain is re-created on whatever silo the next
    /// caller's cached address names (this silo, usually), without asking placement; migration asks the
    /// placement director (with the target as its placement hint, when one was given) and forwards callers.
    /// Orleans captures the request context when migration is asked for, so the hint is set only around it.
    /// </summary>
    private void Migrate()
    {
        _shedRequested = false;
        if (_moveTo is { } target)
            RequestContext.Set(IPlacementDirector.PlacementHintKey, target);
        try
        {
            this.MigrateOnIdle();
        }
        finally
        {
            if (_moveTo is not null)
                RequestContext.Remove(IPlacementDirector.PlacementHintKey);
            _moveTo = null;
        }
    }

    private async Task RegisterCore(AdapterRegistration registration, bool validate)
    {
        string source = registration.Source ?? _id;
        AdapterInfo? info = state.State.Info;
        if (validate)
        {
            if (localDevices.Count == 0)
                throw new NoWorkerCapacityException($"adapter \"{_id}\" was placed on silo {localSilo.SiloAddress}, which has no devices.");
            info = await WithPlacementDeadline(_ => GrainFactory.GetGrain<IGpuGrain>(DeviceKey.Format(localSilo.SiloAddress, 0)).Validate(_id, source));
        }
        bool moved = state.State.Registered && state.State.Source != source;
        bool pinChanged = state.State.Registered && state.State.Pinned != registration.Pinned;
        state.State.Pinned = registration.Pinned;
        if (!state.State.Registered)
            state.State.CreatedAt = time.GetUtcNow();
        state.State.Registered = true;
        state.State.Source = source;
        state.State.Info = info;
        await state.WriteOrRecreateAsync(logger, _id);
        await GrainFactory.GetGrain<IAdapterCatalogGrain>(0).Add(new AdapterRegistration(_id, source, registration.Pinned));
        if (moved && _deviceKey is not null)
        {
            // New weights: the device re-reads them on the next pin.
            await GrainFactory.GetGrain<IGpuGrain>(_deviceKey).Unregister(_id);
            _pinned = false;
            _deviceKey = null;
            _placing = null;
        }
        else if (pinChanged && _deviceKey is not null && !_isBase)
        {
            // Pinned now, or no longer: the device takes or releases the pin; the adapter stays where it is.
            var device = GrainFactory.GetGrain<IGpuGrain>(_deviceKey);
            if (registration.Pinned)
                _pinned = (await device.Pin(_id, source)).Pinned;
            else
            {
                await device.Unpin(_id);
                _pinned = false;
            }
        }
        LogRegistered(logger, _id, source);
    }

    /// <summary>
    /// Whether the store has a directory for <paramref name="id"/>: file-system calls, so off the grain's
    /// turn and bounded by the store's read timeout (a hung mount answers "no": the id is not found).
    /// </summary>
    private async Task<bool> InStore(string id)
    {
        try
        {
            return await Task.Run(() => store.Contains(id)).WaitAsync(store.ReadTimeout);
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// The device is on this silo (the adapter only ever uses a device of its own silo), so the tokens stream
    /// from its engine directly: a grain call per token per request would cost a large share of the CPU (the
    /// cluster bench measured it at 32 concurrent requests). Pins and registrations go through the GPU grain.
    /// </summary>
    private IAsyncEnumerable<GenerateChunk> Submit(GenerateRequest request, CancellationToken cancellationToken) =>
        EngineRequests.Submit(LocalEngine(), _isBase ? null : _id, request, cancellationToken);

    private Engine.Generation.InferenceEngine LocalEngine()
    {
        if (!DeviceKey.TryParse(_deviceKey!, out var silo, out int index) || !silo.Equals(localSilo.SiloAddress) || index >= engines.Count)
            throw new InvalidOperationException($"adapter \"{_id}\" holds device \"{_deviceKey}\", which is not on its silo {localSilo.SiloAddress}.");
        return engines[index];
    }

    /// <summary>On the engine this adapter runs on: its tokenizer and chat template are the ones a generation uses.</summary>
    public async Task<TokenizeResult> Tokenize(TokenizeQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await ReadyDevice(cancellationToken);
        return await EngineTokenizing.TokenizeAsync(LocalEngine(), query, cancellationToken);
    }

    public async Task<string> Detokenize(IReadOnlyList<int> tokens, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        await ReadyDevice(cancellationToken);
        return EngineTokenizing.Detokenize(LocalEngine(), tokens);
    }

    /// <summary>The device holding this adapter, pinning it first if needed (once; a failed or timed-out attempt is retried by the next call).</summary>
    private async Task ReadyDevice(CancellationToken cancellationToken)
    {
        RefuseIfUnservable();
        if (_placing is null || _placing.IsFaulted || _placing.IsCanceled)
            _placing = PlaceOnDevice();
        await _placing.WaitAsync(cancellationToken);
    }

    /// <summary>An unknown id, or an activation on a silo without devices: refused, and the activation ends.</summary>
    private void RefuseIfUnservable()
    {
        if (!_isBase && !state.State.Registered)
        {
            DeactivateOnIdle(); // nothing to keep for an unknown id
            abandoned.Add(_id); // nor a slot: placement reserved one here for it
            throw new AdapterNotFoundException(_id);
        }
        if (localDevices.Count == 0)
        {
            DeactivateOnIdle(); // re-placed by the next call
            throw new NoWorkerCapacityException($"adapter \"{_id}\" was placed on silo {localSilo.SiloAddress}, which has no devices; retry.");
        }
    }

    private Task PlaceOnDevice() => WithPlacementDeadline(async cancellationToken =>
    {
        // Least-loaded local device: the one holding its pin, else most free pinnable slots, then least queued work.
        var loads = await Task.WhenAll(Enumerable.Range(0, localDevices.Count)
            .Select(i => GrainFactory.GetGrain<IGpuGrain>(DeviceKey.Format(localSilo.SiloAddress, i)).GetLoad()));
        var best = loads.OrderByDescending(l => !_isBase && l.PinnedAdapterIds.Contains(_id))
            .ThenByDescending(l => _isBase ? 0 : l.FreeAdapterSlots).ThenBy(l => l.WaitingRequests + l.RunningSequences).ThenBy(l => l.DeviceIndex).First();
        if (_isBase)
        {
            _deviceKey = best.Key;
            return;
        }
        var gpu = GrainFactory.GetGrain<IGpuGrain>(best.Key);
        AdapterInfo info;
        if (state.State.Pinned || worker.Value.PinOnActivation)
        {
            var pin = await gpu.Pin(_id, state.State.Source, cancellationToken);
            (info, _pinned) = (pin.Info, pin.Pinned);
        }
        else
        {
            // Registered with the engine only: its requests bring it into a slot (traffic decides residency).
            info = await gpu.Validate(_id, state.State.Source);
            _pinned = false;
        }
        _deviceKey = best.Key;
        if (state.State.Info != info)
        {
            state.State.Info = info;
            _dirty = true;
        }
        LogPinned(logger, _id, best.Key, _pinned);
    });

    /// <summary>
    /// Runs a placement step under <see cref="DeadlineOptions.Placement"/>: its token asks the step to stop (a pin
    /// waiting for a slot is withdrawn), and the wait ends at the deadline even if the step does not listen.
    /// </summary>
    private async Task<T> WithPlacementDeadline<T>(Func<CancellationToken, Task<T>> step)
    {
        using var deadline = deadlines.Create(CancellationToken.None);
        deadline.Start(DeadlinePhase.Placement);
        try
        {
            return await step(deadline.Token).WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.Expired)
        {
            var exceeded = deadline.Exceeded(_id);
            LogDeadlineExceeded(logger, _id, exceeded.Phase, exceeded.Deadline);
            throw exceeded;
        }
    }

    private Task WithPlacementDeadline(Func<CancellationToken, Task> step) =>
        WithPlacementDeadline(async cancellationToken =>
        {
            await step(cancellationToken);
            return true;
        });

    private void Count(string tag, string outcome, string? errorType, GenerateUsage? usage, double durationMs)
    {
        metrics.RequestFinished(tag, outcome, usage?.PromptTokens ?? 0, usage?.CompletionTokens ?? 0, durationMs, errorType);
        if (_isBase || !state.State.Registered)
            return;
        var c = state.State.Counters;
        state.State.Counters = c with
        {
            Requests = c.Requests + 1,
            PromptTokens = c.PromptTokens + (usage?.PromptTokens ?? 0),
            GeneratedTokens = c.GeneratedTokens + (usage?.CompletionTokens ?? 0),
            Errors = c.Errors + (outcome == "error" ? 1 : 0),
            Cancelled = c.Cancelled + (outcome == "cancelled" ? 1 : 0),
        };
        _dirty = true;
    }

    private async Task PersistCounters(CancellationToken cancellationToken)
    {
        if (!_dirty || !state.State.Registered)
            return;
        _dirty = false;
        await state.WriteOrRecreateAsync(logger, _id, cancellationToken);
    }
}

using System.Diagnostics;
using OrleansLora.Engine.Adapters;

namespace OrleansLora.Engine.Generation;

// Adapters: registration, the disk → host → device tiers, pinning, and the API the grains call.
public sealed partial class InferenceEngine
{
    // Disk reads overlap the steps on other cores; two at once keep a burst of cold adapters from
    // taking every core from the running batch.
    private const int MaxConcurrentLoads = 2;

    /// <summary>
    /// Validates a PEFT adapter in <paramref name="directory"/> — config, weight-file header, every
    /// tensor's name and shape — on the caller's thread (errors name the file) and makes it available
    /// to requests as <paramref name="adapterId"/>. The weights stay on disk until a request or a pin
    /// needs them; they are then read in the background, kept in the host cache
    /// (<see cref="InferenceEngineOptions.MaxCpuLoras"/>) and copied into a device slot between steps.
    /// </summary>
    public void RegisterAdapter(string adapterId, string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(adapterId);
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        if (_options.MaxLoras == 0)
            throw new InvalidOperationException($"this engine has no adapter slots ({InferenceEngineOptions.SectionName}:MaxLoras = 0).");
        var info = PeftAdapter.Inspect(directory, _model.Config, AdapterLoadOptionsFor(adapterId));
        lock (_adapterGate)
        {
            if (_adapters is null)
            {
                var residency = new AdapterResidency(new AdapterSlotTable(_model.Config, _options.MaxLoras, _options.MaxLoraRank, _options.AdapterScalarType), _options.MaxCpuLoras);
                _model.Adapters = residency.Table;
                _adapters = residency;
            }
            _adapters.Register(new AdapterRegistration(adapterId, info));
        }
    }

    /// <summary>Adapter loads into slots, evictions from slots and slot hits so far.</summary>
    public (long Loads, long Evictions, long Hits) AdapterCounters =>
        _adapters is null ? (0, 0, 0) : (_adapters.Loads, _adapters.Evictions, _adapters.Hits);

    /// <summary>Whether <paramref name="adapterId"/> is registered (thread-safe).</summary>
    public bool IsAdapterRegistered(string adapterId) => _adapters?.IsRegistered(adapterId) ?? false;

    /// <summary>
    /// Puts a registered adapter into a device slot and keeps it there until as many
    /// <see cref="UnpinAdapterAsync"/> calls: a pinned adapter is never evicted. Completes once the
    /// adapter is in its slot (after a disk read if needed, and after a busy slot drains). Throws
    /// <see cref="AdapterCapacityException"/> when every slot is already pinned.
    /// </summary>
    public Task PinAdapterAsync(string adapterId, CancellationToken cancellationToken = default)
    {
        RequireRegistered(adapterId);
        var pin = new PendingPin(adapterId, cancellationToken);
        return PinAsync(pin);
    }

    private async Task PinAsync(PendingPin pin)
    {
        await OnEngineThread(() => AddPin(pin), pin.Cancellation).ConfigureAwait(false);
        // Cancellation is noticed between steps; wake an idle engine so it notices at once.
        using var wake = pin.Cancellation.Register(static s => ((SemaphoreSlim)s!).Release(), _wake);
        await pin.Done.Task.ConfigureAwait(false);
    }

    private void AddPin(PendingPin pin)
    {
        var residency = _adapters!;
        string id = pin.AdapterId;
        if (!residency.IsRegistered(id))
            throw new ArgumentException($"adapter \"{id}\" is not registered with this engine.", nameof(id));
        int slot = residency.SlotOf(id);
        if (slot >= 0)
        {
            residency.Pin(slot);
            pin.Done.TrySetResult();
            return;
        }
        var waiting = _pendingPins.Select(p => p.AdapterId).Distinct(StringComparer.Ordinal).ToArray();
        if (!waiting.Contains(id, StringComparer.Ordinal) && residency.SlotsPinned + waiting.Length >= residency.SlotCount)
        {
            string pinned = string.Join(", ", residency.PinnedIds.Concat(waiting).Select(a => $"\"{a}\""));
            throw new AdapterCapacityException($"cannot pin adapter \"{id}\": all {residency.SlotCount} adapter slots are pinned or promised to pins ({pinned}); unpin one, or raise {InferenceEngineOptions.SectionName}:MaxLoras.");
        }
        _pendingPins.Add(pin);
        EnsureLoading(id, prefetchLimit: int.MaxValue);
    }

    /// <summary>Drops one pin taken by <see cref="PinAdapterAsync"/> (or cancels one still waiting); the adapter stays resident until its slot is needed.</summary>
    public Task UnpinAdapterAsync(string adapterId)
    {
        RequireRegistered(adapterId);
        return OnEngineThread(() =>
        {
            int waiting = _pendingPins.FindLastIndex(p => p.AdapterId == adapterId);
            if (waiting >= 0)
            {
                _pendingPins[waiting].Done.TrySetCanceled();
                _pendingPins.RemoveAt(waiting);
            }
            else if (!_adapters!.Unpin(adapterId))
            {
                throw new InvalidOperationException($"adapter \"{adapterId}\" is not pinned.");
            }
        }, CancellationToken.None);
    }

    /// <summary>
    /// Pins <paramref name="adapterId"/> at most once, so that the engine stays the only record of pins: an
    /// adapter that already holds a pin (or waits for one) is not pinned again, and a new pin is taken only
    /// while fewer than <paramref name="maxPinnedAdapters"/> adapters hold or wait for pins (the rest of the
    /// slots stay free for unpinned adapters). A caller that lost its own view (a re-activated grain) can
    /// ask again harmlessly. True once the adapter is in its slot; false when the limit refused the pin.
    /// Cancelling withdraws a pin still waiting for its slot.
    /// </summary>
    public async Task<bool> PinOnceAsync(string adapterId, int maxPinnedAdapters, CancellationToken cancellationToken = default)
    {
        RequireRegistered(adapterId);
        var pin = new PendingPin(adapterId, cancellationToken);
        var done = await OnEngineThread(() => AddPinOnce(pin, maxPinnedAdapters), cancellationToken).ConfigureAwait(false);
        if (done is null)
            return false;
        using var wake = cancellationToken.Register(static s => ((SemaphoreSlim)s!).Release(), _wake);
        await done.WaitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Engine thread: the task that completes when <paramref name="pin"/>'s adapter is pinned, or null when the limit refuses it.</summary>
    private Task? AddPinOnce(PendingPin pin, int maxPinnedAdapters)
    {
        var residency = _adapters!;
        string id = pin.AdapterId;
        if (residency.PinsOf(id) > 0)
            return Task.CompletedTask;
        if (_pendingPins.Find(p => p.AdapterId == id) is { } waiting)
            return waiting.Done.Task;
        int holders = residency.SlotsPinned + _pendingPins.Select(p => p.AdapterId).Distinct(StringComparer.Ordinal).Count();
        if (holders >= Math.Min(maxPinnedAdapters, residency.SlotCount))
            return null;
        AddPin(pin);
        return pin.Done.Task;
    }

    /// <summary>Drops every pin <paramref name="adapterId"/> holds and withdraws its waiting ones; false when it held none.</summary>
    public Task<bool> ReleasePinsAsync(string adapterId)
    {
        RequireRegistered(adapterId);
        return OnEngineThread(() =>
        {
            bool any = false;
            foreach (var pin in _pendingPins.Where(p => p.AdapterId == adapterId).ToArray())
            {
                pin.Done.TrySetCanceled();
                _pendingPins.Remove(pin);
                any = true;
            }
            while (_adapters!.Unpin(adapterId))
                any = true;
            return any;
        }, CancellationToken.None);
    }

    /// <summary>Forgets a registered adapter in every tier; refused while it is pinned or running. Waiting requests and pins for it fail.</summary>
    public Task UnregisterAdapterAsync(string adapterId)
    {
        RequireRegistered(adapterId);
        return OnEngineThread(() =>
        {
            var gone = new ArgumentException($"adapter \"{adapterId}\" was unregistered before this request ran.");
            _adapters!.Unregister(adapterId);
            if (_ready.Remove(adapterId, out var ready))
                ready.Adapter.Release();
            _loading.TryRemove(adapterId, out _); // its result is dropped as stale when it arrives
            _queues.RemoveWhere(s => s.Request.AdapterId == adapterId, s =>
            {
                Interlocked.Decrement(ref _queued);
                s.Output.TryComplete(gone);
            });
            FailPins(adapterId, gone);
        }, CancellationToken.None);
    }

    /// <summary>Each registered adapter with its rank, targets, tier (device slot, host cache or only on disk) and pins.</summary>
    public Task<IReadOnlyList<AdapterStatus>> GetAdaptersAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        return OnEngineThread<IReadOnlyList<AdapterStatus>>(() =>
        {
            if (_adapters is not { } residency)
                return [];
            var list = new List<AdapterStatus>();
            foreach (string id in residency.RegisteredIds.Order(StringComparer.Ordinal))
            {
                if (residency.TryGet(id, out var r))
                {
                    var a = r.Info;
                    list.Add(new AdapterStatus(id, a.Directory, a.Rank, a.Config.LoraAlpha, a.Config.UseRsLora, a.TargetModules, a.ByteSize, ResidencyOf(residency, id), residency.PinsOf(id)));
                }
            }
            return list;
        }, cancellationToken);
    }

    private AdapterResidencyLevel ResidencyOf(AdapterResidency residency, string id) =>
        residency.SlotOf(id) >= 0 ? AdapterResidencyLevel.Device
        : _ready.ContainsKey(id) || residency.HostCache.Contains(id) ? AdapterResidencyLevel.Host
        : AdapterResidencyLevel.Disk;

    private void RequireRegistered(string adapterId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(adapterId);
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        if (!IsAdapterRegistered(adapterId))
            throw new ArgumentException($"adapter \"{adapterId}\" is not registered with this engine.", nameof(adapterId));
    }

    /// <summary>Whether a waiting request or pin wants <paramref name="id"/> in a slot.</summary>
    private bool IsWanted(string id) => _queues.HasWaiting(id) || _pendingPins.Exists(p => p.AdapterId == id);

    /// <summary>
    /// Engine thread: starts reading <paramref name="id"/> from disk unless it is resident, prepared,
    /// cached on the host or already loading. At most <paramref name="prefetchLimit"/> adapters are
    /// loading or prepared-and-waiting at once, so a crowd of cold adapters does not fill host memory.
    /// </summary>
    private void EnsureLoading(string id, int prefetchLimit)
    {
        var residency = _adapters!;
        if (residency.SlotOf(id) >= 0 || _ready.ContainsKey(id) || _loading.ContainsKey(id) || residency.HostCache.Contains(id))
            return;
        if (_loading.Count + _ready.Count >= prefetchLimit || !residency.TryGet(id, out var registration))
            return;
        StartRead(registration);
    }

    /// <summary>
    /// Caller's thread, for a request just queued: when its adapter is neither in a slot, nor in
    /// host memory, nor already being read (as the engine thread last published), the disk read
    /// starts now. Otherwise it would start only when the step in flight ends, and the request
    /// would join the batch a step later than the read needs. The published set may be a step old;
    /// a read it starts needlessly is dropped or cached, never wrong.
    /// </summary>
    private void ReadOnArrival(string id)
    {
        if (_adapters is not { } residency || _shutdown.IsCancellationRequested || _warmAdapters.Contains(id) || _loading.ContainsKey(id))
            return;
        if (_loading.Count + Volatile.Read(ref _readyCount) >= _options.MaxLoras || !residency.TryGet(id, out var registration))
            return;
        StartRead(registration);
    }

    /// <summary>Any thread: reads and prepares <paramref name="registration"/> in the background (at most <see cref="MaxConcurrentLoads"/> at once) unless a read of it is in flight.</summary>
    private void StartRead(AdapterRegistration registration)
    {
        if (!_loading.TryAdd(registration.Id, registration))
            return;
        _adapters!.HostCache.RecordMiss();
        var config = _model.Config;
        var dtype = _adapters.Table.Dtype;
        var loadOptions = AdapterLoadOptionsFor(registration.Id);
        var task = Task.Run(async () =>
        {
            await _loadGate.WaitAsync().ConfigureAwait(false);
            try
            {
                var started = Stopwatch.GetTimestamp();
                // The weights are validated again: the files may have changed since registration.
                var prepared = PreparedAdapter.Load(registration.Info.Directory, config, dtype, loadOptions);
                _loaded.Enqueue(new AdapterLoadResult(registration, prepared, null, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
            }
            catch (Exception ex)
            {
                _loaded.Enqueue(new AdapterLoadResult(registration, null, ex, 0));
            }
            finally
            {
                _loadGate.Release();
            }
            _wake.Release();
        });
        _loadTasks[task] = 0;
        task.ContinueWith(t => _loadTasks.TryRemove(t, out _), TaskScheduler.Default);
    }

    /// <summary>Engine thread: takes finished loads into the host cache and the ready set, or fails who waited on a failed one.</summary>
    private void DrainLoaded()
    {
        while (_loaded.TryDequeue(out var result))
        {
            var registration = result.Registration;
            var residency = _adapters!;
            _loading.TryRemove(KeyValuePair.Create(registration.Id, registration));
            if (!residency.IsCurrent(registration))
            {
                result.Adapter?.Release(); // unregistered while it loaded
                continue;
            }
            if (result.Adapter is not { } prepared)
            {
                LogAdapterLoadFailed(_logger, result.Error, registration.Id, registration.Info.Directory);
                var error = new InvalidOperationException($"adapter \"{registration.Id}\" could not be loaded from {registration.Info.Directory}: {result.Error?.Message}", result.Error);
                _queues.RemoveWhere(s => s.Request.AdapterId == registration.Id, s =>
                {
                    Interlocked.Decrement(ref _queued);
                    s.Output.TryComplete(error);
                });
                FailPins(registration.Id, error);
                continue;
            }
            residency.HostCache.Add(registration.Id, prepared);
            if (_ready.Remove(registration.Id, out var stale))
                stale.Adapter.Release();
            _ready[registration.Id] = new ReadyAdapter(prepared, result.ReadMilliseconds);
            LogAdapterRead(_logger, registration.Id, result.ReadMilliseconds);
        }
    }

    /// <summary>
    /// Engine thread: puts <paramref name="id"/> into a slot if one can be had now and its weights
    /// are prepared (read earlier) or in the host cache; otherwise starts the disk read and says no.
    /// </summary>
    private bool TryInstall(string id, int prefetchLimit, out int slot)
    {
        var residency = _adapters!;
        slot = -1;
        if (residency.SlotOf(id) >= 0)
            return false; // resident but draining: it waits outside the slots like everyone else
        slot = residency.FindSlot(IsWanted);
        if (slot < 0)
        {
            EnsureLoading(id, prefetchLimit);
            return false;
        }
        ReadyAdapter? ready = null;
        if (_ready.Remove(id, out var prepared))
            ready = prepared;
        else if (residency.HostCache.TryTake(id, out var cached))
            ready = new ReadyAdapter(cached, null);
        if (ready is null)
        {
            EnsureLoading(id, prefetchLimit);
            return false;
        }
        try
        {
            var started = Stopwatch.GetTimestamp();
            residency.Install(slot, id, ready.Adapter, Interlocked.Read(ref _steps));
            double copyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (ready.ReadMilliseconds is { } readMs)
                _coldLoads.Add(readMs + copyMs);
            else
                _warmLoads.Add(copyMs);
        }
        finally
        {
            ready.Adapter.Release();
        }
        return true;
    }

    /// <summary>Engine thread: pins whose adapter can now take a slot are served first; cancelled ones leave.</summary>
    private void ServePendingPins()
    {
        for (int i = 0; i < _pendingPins.Count; i++)
        {
            var pin = _pendingPins[i];
            if (pin.Cancellation.IsCancellationRequested)
            {
                pin.Done.TrySetCanceled(pin.Cancellation);
                _pendingPins.RemoveAt(i--);
                continue;
            }
            int slot = _adapters!.SlotOf(pin.AdapterId);
            if (slot >= 0 || TryInstall(pin.AdapterId, int.MaxValue, out slot))
            {
                _adapters.Pin(slot);
                pin.Done.TrySetResult();
                _pendingPins.RemoveAt(i--);
            }
        }
    }

    private void FailPins(string adapterId, Exception error)
    {
        foreach (var pin in _pendingPins.Where(p => p.AdapterId == adapterId).ToArray())
        {
            pin.Done.TrySetException(error);
            _pendingPins.Remove(pin);
        }
    }

    /// <summary>
    /// Engine thread, after admission: adapters that wait outside the slots (prepared or loading,
    /// or pinned) get busy slots marked draining, fairly (see <see cref="AdapterResidency.Exchange"/>);
    /// prepared adapters nobody wants any more are let go (the host cache may still hold them).
    /// </summary>
    private void ExchangeSlots()
    {
        var residency = _adapters!;
        // Disk reads start while the batch is still full, so they overlap the running steps.
        foreach (string id in _queues.WaitingAdapters)
            EnsureLoading(id, _options.MaxLoras);
        int needed = 0;
        foreach (string id in _queues.WaitingAdapters.Concat(_pendingPins.Select(p => p.AdapterId)).Distinct(StringComparer.Ordinal))
        {
            if (residency.SlotOf(id) < 0 && (_ready.ContainsKey(id) || _loading.ContainsKey(id) || residency.HostCache.Contains(id)))
                needed++;
        }
        residency.Exchange(needed, Interlocked.Read(ref _steps), _options.AdapterExchangeSteps, IsWanted);
        foreach (var (id, ready) in _ready.ToArray())
        {
            if (!IsWanted(id))
            {
                _ready.Remove(id);
                ready.Adapter.Release();
            }
        }
    }

    /// <summary>At shutdown, after the engine thread and the loads have ended.</summary>
    private void ReleaseAdapterBuffers()
    {
        foreach (var ready in _ready.Values)
            ready.Adapter.Release();
        _ready.Clear();
        while (_loaded.TryDequeue(out var result))
            result.Adapter?.Release();
    }
}

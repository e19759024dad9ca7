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
        var info = _runner.InspectAdapter(directory, AdapterLoadOptionsFor(adapterId));
        lock (_adapterGate)
        {
            if (_adapters is null)
            {
                var residency = new AdapterResidency(_runner, _options.MaxCpuLoras);
                _loader = new AdapterLoader(_runner, residency, AdapterLoadOptionsFor, () => _wake.Release(), MaxConcurrentLoads, _logger);
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
        _loader!.EnsureLoading(id, prefetchLimit: int.MaxValue);
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
            _loader!.Forget(adapterId);
            _scheduler.Blocks?.Forget(adapterId); // a new registration under this id may bring other weights
            _scheduler.RemoveWaiting(s => s.Request.AdapterId == adapterId, s => s.Output.TryComplete(gone));
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
        : _loader!.IsReady(id) || residency.HostCache.Contains(id) ? AdapterResidencyLevel.Host
        : AdapterResidencyLevel.Disk;

    private void RequireRegistered(string adapterId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(adapterId);
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        if (!IsAdapterRegistered(adapterId))
            throw new ArgumentException($"adapter \"{adapterId}\" is not registered with this engine.", nameof(adapterId));
    }

    /// <summary>Whether a waiting request or pin wants <paramref name="id"/> in a slot.</summary>
    private bool IsWanted(string id) => _scheduler.HasWaiting(id) || _pendingPins.Exists(p => p.AdapterId == id);

    /// <summary>Engine thread: a disk read failed; whoever waited for the adapter fails with <paramref name="error"/>.</summary>
    private void FailLoad(AdapterRegistration registration, Exception error)
    {
        _scheduler.RemoveWaiting(s => s.Request.AdapterId == registration.Id, s => s.Output.TryComplete(error));
        FailPins(registration.Id, error);
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
            _loader!.EnsureLoading(id, prefetchLimit);
            return false;
        }
        if (_loader!.TryInstall(id, slot, prefetchLimit, Interlocked.Read(ref _steps)))
            return true;
        slot = -1;
        return false;
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
        var loader = _loader!;
        foreach (string id in _scheduler.WaitingAdapters)
            loader.EnsureLoading(id, _options.MaxLoras);
        int needed = 0;
        foreach (string id in _scheduler.WaitingAdapters.Concat(_pendingPins.Select(p => p.AdapterId)).Distinct(StringComparer.Ordinal))
        {
            if (residency.SlotOf(id) < 0 && loader.IsOnTheWay(id))
                needed++;
        }
        residency.Exchange(needed, Interlocked.Read(ref _steps), _options.AdapterExchangeSteps, IsWanted);
        loader.DropUnwanted(IsWanted);
    }
}

using System.Collections.Concurrent;
using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Generation;

/// <summary>
/// The adapter tiers of one engine: registrations (thread-safe), the host cache, and which
/// adapter sits in which device slot (engine thread, between steps). A slot held by a running
/// sequence or a pin is never evicted; an idle slot is given up only to an adapter that waits,
/// and a busy one only after the scheduler marks it draining (see <see cref="InferenceEngine"/>).
/// </summary>
internal sealed class AdapterResidency(IModelRunner runner, int hostCapacity) : IDisposable
{
    private readonly ConcurrentDictionary<string, AdapterRegistration> _registered = new(StringComparer.Ordinal);
    private readonly string?[] _slotAdapter = new string?[runner.AdapterSlots];
    private readonly int[] _references = new int[runner.AdapterSlots];
    private readonly int[] _pins = new int[runner.AdapterSlots];
    private readonly long[] _lastUsed = new long[runner.AdapterSlots];
    private readonly long[] _activeSince = new long[runner.AdapterSlots];
    private readonly bool[] _draining = new bool[runner.AdapterSlots];
    private long _clock, _loads, _evictions, _hits;

    public AdapterHostCache HostCache { get; } = new(hostCapacity);
    public long Loads => Interlocked.Read(ref _loads);
    public long Evictions => Interlocked.Read(ref _evictions);
    public long Hits => Interlocked.Read(ref _hits);
    public int Registered => _registered.Count;
    public int SlotCount => _slotAdapter.Length;

    public bool IsRegistered(string id) => _registered.ContainsKey(id);

    public bool TryGet(string id, out AdapterRegistration registration) => _registered.TryGetValue(id, out registration!);

    /// <summary>Whether <paramref name="registration"/> is still the live registration of its id.</summary>
    public bool IsCurrent(AdapterRegistration registration) =>
        _registered.TryGetValue(registration.Id, out var live) && ReferenceEquals(live, registration);

    public IEnumerable<string> RegisteredIds => _registered.Keys;

    /// <summary>Engine thread: the ids in a device slot or in the host cache.</summary>
    public IEnumerable<string> WarmIds => _slotAdapter.OfType<string>().Concat(HostCache.Ids);

    /// <summary>Adds a validated adapter; a second registration of the same id is refused.</summary>
    public void Register(AdapterRegistration registration)
    {
        if (registration.Info.Rank > runner.MaxAdapterRank)
            throw new ArgumentException($"adapter \"{registration.Id}\" has rank {registration.Info.Rank}; this engine's MaxLoraRank is {runner.MaxAdapterRank}.", nameof(registration));
        if (!_registered.TryAdd(registration.Id, registration))
            throw new ArgumentException($"adapter \"{registration.Id}\" is already registered.", nameof(registration));
    }

    /// <summary>Engine thread: forgets <paramref name="id"/> in every tier; refused while a sequence or a pin holds its slot.</summary>
    public void Unregister(string id)
    {
        if (!_registered.ContainsKey(id))
            throw new ArgumentException($"adapter \"{id}\" is not registered.", nameof(id));
        int slot = SlotOf(id);
        if (slot >= 0)
        {
            if (_references[slot] > 0 || _pins[slot] > 0)
                throw new InvalidOperationException($"adapter \"{id}\" is in use ({_references[slot]} running sequences, {_pins[slot]} pins); unpin it and let its requests finish first.");
            _slotAdapter[slot] = null;
            _draining[slot] = false;
            runner.EvictAdapter(slot);
        }
        HostCache.Remove(id);
        _registered.TryRemove(id, out _);
    }

    /// <summary>Engine thread: the device slot holding <paramref name="id"/>, or -1.</summary>
    public int SlotOf(string id) => Array.IndexOf(_slotAdapter, id);

    /// <summary>Engine thread: pins held on <paramref name="id"/>'s slot (0 when not resident).</summary>
    public int PinsOf(string id) => SlotOf(id) is int s and >= 0 ? _pins[s] : 0;

    public int SlotsUsed => _slotAdapter.Count(a => a is not null);

    public int SlotsPinned => _pins.Count(p => p > 0);

    /// <summary>Adapters whose slots are pinned.</summary>
    public IEnumerable<string> PinnedIds => Enumerable.Range(0, SlotCount).Where(s => _pins[s] > 0).Select(s => _slotAdapter[s]!);

    /// <summary>Engine thread: the resident slot of <paramref name="id"/> if it may take new sequences (resident and not draining); counts a hit.</summary>
    public bool TryResident(string id, out int slot)
    {
        slot = SlotOf(id);
        if (slot < 0 || _draining[slot])
            return false;
        Interlocked.Increment(ref _hits);
        return true;
    }

    /// <summary>Engine thread: a running sequence starts using <paramref name="slot"/>.</summary>
    public void Acquire(int slot)
    {
        _references[slot]++;
        _lastUsed[slot] = ++_clock;
    }

    public void Release(int slot) => _references[slot]--;

    public void Pin(int slot)
    {
        _pins[slot]++;
        _draining[slot] = false;
    }

    /// <summary>Engine thread: drops one pin; false when <paramref name="id"/> holds none.</summary>
    public bool Unpin(string id)
    {
        int slot = SlotOf(id);
        if (slot < 0 || _pins[slot] == 0)
            return false;
        _pins[slot]--;
        return true;
    }

    /// <summary>
    /// A slot that may take another adapter now: an empty one, else the least recently used slot
    /// that no sequence or pin holds and whose adapter either waits for nothing or is draining;
    /// -1 when there is none.
    /// </summary>
    public int FindSlot(Func<string, bool> isWanted)
    {
        int best = -1;
        for (int s = 0; s < _slotAdapter.Length; s++)
        {
            if (_slotAdapter[s] is not { } resident)
                return s;
            if (!IsEvictable(s, resident, isWanted))
                continue;
            if (best < 0 || _lastUsed[s] < _lastUsed[best])
                best = s;
        }
        return best;
    }

    private bool IsEvictable(int slot, string resident, Func<string, bool> isWanted) =>
        _references[slot] == 0 && _pins[slot] == 0 && (_draining[slot] || !isWanted(resident));

    /// <summary>Engine thread: copies <paramref name="adapter"/> into <paramref name="slot"/> (evicting its occupant), active from <paramref name="step"/>.</summary>
    public void Install(int slot, string id, HostAdapter adapter, long step)
    {
        if (_references[slot] > 0 || _pins[slot] > 0)
            throw new InvalidOperationException($"slot {slot} is in use by \"{_slotAdapter[slot]}\".");
        if (_slotAdapter[slot] is not null)
            Interlocked.Increment(ref _evictions);
        _slotAdapter[slot] = null; // stays empty if the copy throws
        runner.LoadAdapter(slot, adapter);
        _slotAdapter[slot] = id;
        _draining[slot] = false;
        _activeSince[slot] = step;
        _lastUsed[slot] = ++_clock;
        Interlocked.Increment(ref _loads);
    }

    /// <summary>
    /// Engine thread: marks busy slots draining (no new sequences; evictable once idle) until
    /// <paramref name="needed"/> slots are free, idle-evictable or draining. Victims are unpinned
    /// slots active for at least <paramref name="minActiveSteps"/>, longest active first; earlier
    /// marks are recomputed, so a slot stops draining when no adapter waits for it any more.
    /// </summary>
    public void Exchange(int needed, long step, int minActiveSteps, Func<string, bool> isWanted)
    {
        Array.Clear(_draining);
        int available = 0;
        for (int s = 0; s < _slotAdapter.Length; s++)
        {
            if (_slotAdapter[s] is not { } resident || IsEvictable(s, resident, isWanted))
                available++;
        }
        while (available < needed)
        {
            int victim = -1;
            for (int s = 0; s < _slotAdapter.Length; s++)
            {
                if (_slotAdapter[s] is { } resident && !_draining[s] && _pins[s] == 0 && !IsEvictable(s, resident, isWanted)
                    && step - _activeSince[s] >= minActiveSteps && (victim < 0 || _activeSince[s] < _activeSince[victim]))
                    victim = s;
            }
            if (victim < 0)
                return;
            _draining[victim] = true;
            available++;
        }
    }

    public void Dispose()
    {
        HostCache.Dispose(); // the device slots belong to the runner
    }
}

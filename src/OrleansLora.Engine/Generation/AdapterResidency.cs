using System.Collections.Concurrent;
using OrleansLora.Engine.Adapters;

namespace OrleansLora.Engine.Generation;

/// <summary>
/// Which registered adapter (host memory) sits in which device slot. Registration is thread-safe;
/// acquiring and releasing slots happen on the engine thread between steps. A slot in use by a
/// running sequence is never evicted; otherwise the least recently used slot makes room.
/// </summary>
internal sealed class AdapterResidency(AdapterSlotTable table) : IDisposable
{
    private readonly ConcurrentDictionary<string, PeftAdapter> _registered = new(StringComparer.Ordinal);
    private readonly string?[] _slotAdapter = new string?[table.SlotCount];
    private readonly int[] _references = new int[table.SlotCount];
    private readonly int[] _pins = new int[table.SlotCount];
    private readonly long[] _lastUsed = new long[table.SlotCount];
    private long _clock, _loads, _evictions, _hits;

    public AdapterSlotTable Table => table;
    public long Loads => Interlocked.Read(ref _loads);
    public long Evictions => Interlocked.Read(ref _evictions);
    public long Hits => Interlocked.Read(ref _hits);
    public int Registered => _registered.Count;

    public bool IsRegistered(string id) => _registered.ContainsKey(id);

    public bool TryGet(string id, out PeftAdapter adapter) => _registered.TryGetValue(id, out adapter!);

    public IEnumerable<string> RegisteredIds => _registered.Keys;

    /// <summary>Engine thread: the device slot holding <paramref name="id"/>, or -1.</summary>
    public int SlotOf(string id) => Array.IndexOf(_slotAdapter, id);

    /// <summary>Engine thread: pins held on <paramref name="id"/>'s slot (0 when not resident).</summary>
    public int PinsOf(string id) => SlotOf(id) is int s and >= 0 ? _pins[s] : 0;

    public int SlotsUsed => _slotAdapter.Count(a => a is not null);

    public int SlotsPinned => _pins.Count(p => p > 0);

    /// <summary>
    /// Engine thread: loads <paramref name="id"/> into a slot (if it is not there) and holds it there
    /// until as many <see cref="Unpin"/> calls; false when every slot is pinned or in use.
    /// </summary>
    public bool TryPin(string id)
    {
        if (!TryAcquire(id, out int slot))
            return false;
        _references[slot]--;
        _pins[slot]++;
        return true;
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

    /// <summary>Engine thread: forgets <paramref name="id"/>; refused while a sequence or a pin holds it.</summary>
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
            table.Clear(slot);
        }
        if (_registered.TryRemove(id, out var adapter))
            adapter.Dispose();
    }

    /// <summary>Adds an adapter loaded by the caller; a second registration of the same id is refused.</summary>
    public void Register(string id, PeftAdapter adapter)
    {
        if (adapter.Rank > table.MaxRank)
            throw new ArgumentException($"adapter \"{id}\" has rank {adapter.Rank}; this engine's MaxLoraRank is {table.MaxRank}.", nameof(adapter));
        if (!_registered.TryAdd(id, adapter))
            throw new ArgumentException($"adapter \"{id}\" is already registered.", nameof(id));
    }

    /// <summary>Engine thread: a slot holding <paramref name="id"/>, loading it if needed; false when every slot is in use.</summary>
    public bool TryAcquire(string id, out int slot)
    {
        _clock++;
        slot = Array.IndexOf(_slotAdapter, id);
        if (slot >= 0)
        {
            Interlocked.Increment(ref _hits);
        }
        else
        {
            slot = FreeOrLeastRecentlyUsedSlot();
            if (slot < 0)
                return false;
            if (_slotAdapter[slot] is not null)
                Interlocked.Increment(ref _evictions);
            table.Load(slot, _registered[id]);
            _slotAdapter[slot] = id;
            Interlocked.Increment(ref _loads);
        }
        _references[slot]++;
        _lastUsed[slot] = _clock;
        return true;
    }

    public void Release(int slot) => _references[slot]--;

    /// <summary>An empty slot if there is one, else the least recently used slot no sequence holds; -1 when all are held.</summary>
    private int FreeOrLeastRecentlyUsedSlot()
    {
        int best = -1;
        for (int s = 0; s < _slotAdapter.Length; s++)
        {
            if (_references[s] > 0 || _pins[s] > 0)
                continue;
            if (_slotAdapter[s] is null)
                return s;
            if (best < 0 || _lastUsed[s] < _lastUsed[best])
                best = s;
        }
        return best;
    }

    public void Dispose()
    {
        foreach (var a in _registered.Values)
            a.Dispose();
        table.Dispose();
    }
}

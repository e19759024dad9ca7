using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Generation;

/// <summary>
/// The host-memory tier: up to <c>capacity</c> prepared adapters, least recently used evicted
/// first (their directory on disk is the tier behind). Engine thread only; counters may be read
/// from any thread.
/// </summary>
internal sealed class AdapterHostCache(int capacity) : IDisposable
{
    private readonly Dictionary<string, LinkedListNode<(string Id, HostAdapter Adapter)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Id, HostAdapter Adapter)> _lru = new(); // most recently used first
    private long _hits, _misses, _evictions;

    public int Count => _entries.Count;
    public long Hits => Interlocked.Read(ref _hits);
    public long Misses => Interlocked.Read(ref _misses);
    public long Evictions => Interlocked.Read(ref _evictions);

    public bool Contains(string id) => _entries.ContainsKey(id);

    public IEnumerable<string> Ids => _entries.Keys;

    /// <summary>A needed adapter was not here and is read from disk.</summary>
    public void RecordMiss() => Interlocked.Increment(ref _misses);

    /// <summary>A reference to the cached adapter (the caller releases it), counted as a hit.</summary>
    public bool TryTake(string id, out HostAdapter adapter)
    {
        if (_entries.TryGetValue(id, out var node) && node.Value.Adapter.TryRetain())
        {
            _lru.Remove(node);
            _lru.AddFirst(node);
            Interlocked.Increment(ref _hits);
            adapter = node.Value.Adapter;
            return true;
        }
        adapter = null!;
        return false;
    }

    /// <summary>Caches <paramref name="adapter"/> under its own reference, evicting the least recently used beyond capacity.</summary>
    public void Add(string id, HostAdapter adapter)
    {
        Remove(id);
        if (!adapter.TryRetain())
            throw new ObjectDisposedException(nameof(HostAdapter), $"adapter {id} was freed before it was cached.");
        _entries[id] = _lru.AddFirst((id, adapter));
        while (_entries.Count > capacity)
        {
            var last = _lru.Last!;
            _lru.RemoveLast();
            _entries.Remove(last.Value.Id);
            last.Value.Adapter.Release();
            Interlocked.Increment(ref _evictions);
        }
    }

    public void Remove(string id)
    {
        if (_entries.Remove(id, out var node))
        {
            _lru.Remove(node);
            node.Value.Adapter.Release();
        }
    }

    public void Dispose()
    {
        foreach (var (_, adapter) in _lru)
            adapter.Release();
        _lru.Clear();
        _entries.Clear();
    }
}

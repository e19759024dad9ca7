namespace OrleansLora.Engine.Caching;

/// <summary>
/// The blocks of a paged KV cache, on ids only (no tensors): a free list, a reference count per
/// block, per-sequence block tables (<see cref="KvSequenceBlocks"/>) and the prefix cache. A full
/// block is keyed by (adapter, its tokens, the previous block's key) when it is computed; a later
/// sequence with the same adapter and prefix takes the block instead of computing it again. A
/// cached block nobody references stays cached until a new block is needed and the free list is
/// empty: then the least recently released one is evicted. Engine thread only.
/// </summary>
public sealed class KvBlockAllocator
{
    private readonly int[] _refs;
    private readonly PrefixBlockKey?[] _keyOf;            // the key a block is cached under, if any
    private readonly LinkedListNode<int>?[] _lruNode;    // set while the block is cached and unreferenced
    private readonly Stack<int> _free;                   // unreferenced, not cached
    private readonly LinkedList<int> _lru = new();       // unreferenced and cached, least recently released first
    private readonly Dictionary<PrefixBlockKey, int> _cached = [];

    public KvBlockAllocator(KvBlockLayout layout, bool prefixCaching = true)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentOutOfRangeException.ThrowIfLessThan(layout.BlockSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(layout.BlockCount, 1);
        BlockSize = layout.BlockSize;
        BlockCount = layout.BlockCount;
        PrefixCaching = prefixCaching;
        _refs = new int[BlockCount];
        _keyOf = new PrefixBlockKey?[BlockCount];
        _lruNode = new LinkedListNode<int>?[BlockCount];
        _free = new Stack<int>(Enumerable.Range(0, BlockCount).Reverse());
    }

    public int BlockSize { get; }
    public int BlockCount { get; }
    public bool PrefixCaching { get; }

    /// <summary>Blocks a new sequence may take: free ones and unreferenced cached ones (evicted on demand).</summary>
    public int AvailableBlocks => _free.Count + _lru.Count;

    /// <summary>Blocks some sequence references.</summary>
    public int UsedBlocks => BlockCount - AvailableBlocks;

    /// <summary>Blocks held by the prefix cache (referenced or not).</summary>
    public int CachedBlocks => _cached.Count;

    /// <summary>Cached blocks evicted to make room.</summary>
    public long Evictions { get; private set; }

    /// <summary>Tokens of admitted sequences looked up in the prefix cache.</summary>
    public long LookupTokens { get; private set; }

    /// <summary>Of <see cref="LookupTokens"/>, those whose keys/values were reused.</summary>
    public long HitTokens { get; private set; }

    /// <summary>Blocks for <paramref name="positions"/> positions.</summary>
    public int BlocksFor(int positions) => (positions + BlockSize - 1) / BlockSize;

    /// <summary>
    /// Whether <see cref="TryAdmit"/> would succeed now for <paramref name="tokens"/>: blocks for all
    /// of them, less the cached prefix it would reuse.
    /// </summary>
    public bool CanAdmit(string adapterKey, IReadOnlyList<int> tokens, bool reuse = true) =>
        Fits(tokens.Count, reuse ? Lookup(adapterKey, tokens) : []);

    private bool Fits(int positions, List<(PrefixBlockKey Key, int Block)> hits)
    {
        int idleHits = hits.Count(h => _refs[h.Block] == 0);
        return BlocksFor(positions) - hits.Count <= AvailableBlocks - idleHits;
    }

    /// <summary>
    /// Takes blocks for every position of <paramref name="tokens"/> (a prompt, or a preempted
    /// sequence's prompt and output): the longest cached prefix of full blocks under the same
    /// adapter, shared, then new blocks. The last token is never taken from the cache, so the
    /// sequence always computes at least one row and gets its logits. Null when the blocks are not
    /// available (nothing is taken then). With <paramref name="reuse"/> false nothing comes from the cache.
    /// </summary>
    public KvSequenceBlocks? TryAdmit(string adapterKey, IReadOnlyList<int> tokens, bool reuse = true)
    {
        ArgumentNullException.ThrowIfNull(adapterKey);
        ArgumentNullException.ThrowIfNull(tokens);
        var hits = reuse ? Lookup(adapterKey, tokens) : [];
        if (!Fits(tokens.Count, hits))
            return null;
        var seq = new KvSequenceBlocks(adapterKey);
        foreach (var (key, block) in hits)
        {
            Retain(block);
            seq.Blocks.Add(block);
            seq.Keys.Add(key);
        }
        seq.ReusedTokens = hits.Count * BlockSize;
        LookupTokens += tokens.Count;
        HitTokens += seq.ReusedTokens;
        if (!TryGrow(seq, tokens.Count))
            throw new InvalidOperationException("admission found the blocks it had counted missing.");
        return seq;
    }

    /// <summary>Adds new blocks to <paramref name="seq"/> until it holds <paramref name="positions"/> positions; false (nothing added) when not enough are available.</summary>
    public bool TryGrow(KvSequenceBlocks seq, int positions)
    {
        ArgumentNullException.ThrowIfNull(seq);
        int need = BlocksFor(positions) - seq.Blocks.Count;
        if (need <= 0)
            return true;
        if (need > AvailableBlocks)
            return false;
        for (int i = 0; i < need; i++)
            seq.Blocks.Add(TakeBlock());
        return true;
    }

    /// <summary>
    /// After a forward: keys every block of <paramref name="seq"/> that <paramref name="computed"/>
    /// positions now fill, and offers it to the prefix cache (a block whose key is already cached
    /// stays private to the sequence).
    /// </summary>
    public void Commit(KvSequenceBlocks seq, IReadOnlyList<int> tokens, int computed)
    {
        ArgumentNullException.ThrowIfNull(seq);
        ArgumentNullException.ThrowIfNull(tokens);
        if (!PrefixCaching)
            return;
        int full = Math.Min(computed / BlockSize, seq.Blocks.Count);
        ReadOnlySpan<int> span = tokens is List<int> list ? System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list) : tokens.ToArray();
        for (int b = seq.Keys.Count; b < full; b++)
        {
            ulong parent = b == 0 ? 0 : seq.Keys[b - 1].Hash;
            var key = new PrefixBlockKey(seq.AdapterKey, parent, span.Slice(b * BlockSize, BlockSize));
            seq.Keys.Add(key);
            int block = seq.Blocks[b];
            if (_keyOf[block] is null && _cached.TryAdd(key, block))
                _keyOf[block] = key;
        }
    }

    /// <summary>Gives back every block of <paramref name="seq"/>; cached ones stay cached until evicted.</summary>
    public void Free(KvSequenceBlocks seq)
    {
        ArgumentNullException.ThrowIfNull(seq);
        foreach (int block in seq.Blocks)
            Release(block);
        seq.Blocks.Clear();
        seq.Keys.Clear();
    }

    /// <summary>Drops every cached block computed under <paramref name="adapterKey"/> (its weights may change under the same id).</summary>
    public void Forget(string adapterKey)
    {
        foreach (var (key, block) in _cached.Where(e => e.Key.AdapterKey == adapterKey).ToArray())
        {
            _cached.Remove(key);
            _keyOf[block] = null;
            if (_lruNode[block] is { } node)
            {
                _lru.Remove(node);
                _lruNode[block] = null;
                _free.Push(block);
            }
        }
    }

    private List<(PrefixBlockKey Key, int Block)> Lookup(string adapterKey, IReadOnlyList<int> tokens)
    {
        var hits = new List<(PrefixBlockKey, int)>();
        if (!PrefixCaching)
            return hits;
        int reusable = (tokens.Count - 1) / BlockSize; // the last token is always computed
        Span<int> chunk = BlockSize <= 256 ? stackalloc int[BlockSize] : new int[BlockSize];
        ulong parent = 0;
        for (int b = 0; b < reusable; b++)
        {
            for (int i = 0; i < BlockSize; i++)
                chunk[i] = tokens[b * BlockSize + i];
            var key = new PrefixBlockKey(adapterKey, parent, chunk);
            if (!_cached.TryGetValue(key, out int block))
                break;
            hits.Add((key, block));
            parent = key.Hash;
        }
        return hits;
    }

    private int TakeBlock()
    {
        if (!_free.TryPop(out int block))
        {
            var oldest = _lru.First ?? throw new InvalidOperationException("no KV block is available.");
            block = oldest.Value;
            _lru.RemoveFirst();
            _lruNode[block] = null;
            _cached.Remove(_keyOf[block]!);
            _keyOf[block] = null;
            Evictions++;
        }
        _refs[block] = 1;
        return block;
    }

    private void Retain(int block)
    {
        if (_refs[block]++ == 0 && _lruNode[block] is { } node)
        {
            _lru.Remove(node);
            _lruNode[block] = null;
        }
    }

    private void Release(int block)
    {
        if (_refs[block] <= 0)
            throw new InvalidOperationException($"KV block {block} released more often than taken.");
        if (--_refs[block] > 0)
            return;
        if (_keyOf[block] is not null)
            _lruNode[block] = _lru.AddLast(block);
        else
            _free.Push(block);
    }
}

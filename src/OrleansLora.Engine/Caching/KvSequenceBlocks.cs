namespace OrleansLora.Engine.Caching;

/// <summary>
/// One sequence's block table in a <see cref="KvBlockAllocator"/>: position p lives in
/// <c>Blocks[p / blockSize]</c>. The first <see cref="Keys"/>.Count blocks are full and keyed (shared
/// through the prefix cache or registered there by this sequence); the rest are its own.
/// </summary>
public sealed class KvSequenceBlocks
{
    internal KvSequenceBlocks(string adapterKey) => AdapterKey = adapterKey;

    /// <summary>The adapter id the keys were computed under; empty for the base model.</summary>
    public string AdapterKey { get; }

    /// <summary>Block ids in position order.</summary>
    public List<int> Blocks { get; } = [];

    /// <summary>Keys of the leading full blocks, in order (each chains to the one before).</summary>
    internal List<PrefixBlockKey> Keys { get; } = [];

    /// <summary>Leading tokens whose keys/values came from the prefix cache at admission.</summary>
    public int ReusedTokens { get; internal set; }
}

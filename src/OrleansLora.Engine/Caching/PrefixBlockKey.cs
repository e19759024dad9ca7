namespace OrleansLora.Engine.Caching;

/// <summary>
/// What a full KV block holds, as the prefix cache keys it: the adapter it was computed under (or
/// the base model), the hash of the block before it (0 for the first) and the block's token ids.
/// The 64-bit <see cref="Hash"/> chains over the whole prefix; equality also compares the adapter,
/// the parent hash and the tokens, so a hash collision can never serve another prefix's keys.
/// </summary>
public sealed class PrefixBlockKey : IEquatable<PrefixBlockKey>
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    public PrefixBlockKey(string adapterKey, ulong parentHash, ReadOnlySpan<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(adapterKey);
        AdapterKey = adapterKey;
        ParentHash = parentHash;
        Tokens = tokens.ToArray();
        ulong h = Mix(FnvOffset, parentHash);
        foreach (char c in adapterKey)
            h = Mix(h, c);
        h = Mix(h, (ulong)adapterKey.Length);
        foreach (int t in tokens)
            h = Mix(h, (uint)t);
        Hash = h == 0 ? 1 : h; // 0 means "no parent"
    }

    public string AdapterKey { get; }
    public ulong ParentHash { get; }
    public int[] Tokens { get; }
    public ulong Hash { get; }

    private static ulong Mix(ulong h, ulong value)
    {
        // FNV-1a over the value's 8 bytes.
        for (int i = 0; i < 8; i++, value >>= 8)
            h = (h ^ (value & 0xFF)) * FnvPrime;
        return h;
    }

    public bool Equals(PrefixBlockKey? other) =>
        other is not null && other.Hash == Hash && other.ParentHash == ParentHash
        && string.Equals(other.AdapterKey, AdapterKey, StringComparison.Ordinal)
        && other.Tokens.AsSpan().SequenceEqual(Tokens);

    public override bool Equals(object? obj) => Equals(obj as PrefixBlockKey);

    public override int GetHashCode() => (int)Hash ^ (int)(Hash >> 32);
}

using System.Runtime.CompilerServices;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Constraints;

/// <summary>
/// A tokenizer's vocabulary as bytes, arranged as a trie in pre-order arrays so that finding every
/// token an automaton state admits is one linear pass that skips whole subtrees at the first refused
/// byte (no per-token walk). Built once per tokenizer (<see cref="For"/>) and shared; immutable.
/// </summary>
public sealed class TokenVocabulary
{
    private static readonly ConditionalWeakTable<ITextTokenizer, TokenVocabulary> Cache = new();

    // Node 0 is the root (depth 0). For node i > 0: NodeByte[i] is the byte on the edge into it,
    // NodeDepth[i] its depth, NodeSkip[i] the first node after its subtree, and the tokens spelled
    // exactly by the path to it are SortedTokens[NodeTokenStart[i] .. NodeTokenStart[i] + NodeTokenCount[i]).
    internal readonly byte[] NodeByte;
    internal readonly int[] NodeDepth;
    internal readonly int[] NodeSkip;
    internal readonly int[] NodeTokenStart;
    internal readonly int[] NodeTokenCount;
    internal readonly int[] SortedTokens;
    private readonly byte[]?[] _bytes;

    private TokenVocabulary(byte[]?[] bytes, IReadOnlyList<int> eosTokenIds)
    {
        _bytes = bytes;
        EosTokenIds = eosTokenIds.Where(id => id >= 0 && id < bytes.Length).Distinct().ToArray();
        var order = Enumerable.Range(0, bytes.Length).Where(id => bytes[id] is { Length: > 0 }).ToArray();
        Array.Sort(order, (a, b) => bytes[a].AsSpan().SequenceCompareTo(bytes[b]) is int c && c != 0 ? c : a.CompareTo(b));
        SortedTokens = order;
        MaxTokenBytes = order.Length == 0 ? 0 : order.Max(id => bytes[id]!.Length);

        var nodeByte = new List<byte> { 0 };
        var nodeDepth = new List<int> { 0 };
        var nodeSkip = new List<int> { 0 };
        var nodeStart = new List<int> { 0 };
        var nodeCount = new List<int> { 0 };
        var path = new List<int> { 0 }; // node at each depth along the current path
        byte[] previous = [];
        for (int k = 0; k < order.Length; k++)
        {
            byte[] current = bytes[order[k]]!;
            int common = 0;
            while (common < previous.Length && common < current.Length && previous[common] == current[common])
                common++;
            // Close the nodes of the previous path below the common prefix.
            while (path.Count - 1 > common)
            {
                nodeSkip[path[^1]] = nodeByte.Count;
                path.RemoveAt(path.Count - 1);
            }
            for (int d = common; d < current.Length; d++)
            {
                nodeByte.Add(current[d]);
                nodeDepth.Add(d + 1);
                nodeSkip.Add(0);
                nodeStart.Add(k);
                nodeCount.Add(0);
                path.Add(nodeByte.Count - 1);
            }
            int end = path[^1];
            if (nodeCount[end] == 0)
                nodeStart[end] = k;
            nodeCount[end]++;
            previous = current;
        }
        while (path.Count > 0)
        {
            nodeSkip[path[^1]] = nodeByte.Count;
            path.RemoveAt(path.Count - 1);
        }
        NodeByte = nodeByte.ToArray();
        NodeDepth = nodeDepth.ToArray();
        NodeSkip = nodeSkip.ToArray();
        NodeTokenStart = nodeStart.ToArray();
        NodeTokenCount = nodeCount.ToArray();
    }

    /// <summary>Token ids (the tokenizer's vocabulary size, not the model's padded logits width).</summary>
    public int Count => _bytes.Length;

    public IReadOnlyList<int> EosTokenIds { get; }

    public int MaxTokenBytes { get; }

    internal int NodeCount => NodeByte.Length;

    /// <summary>The bytes of a token, or null for special tokens (never text, never admitted by a grammar).</summary>
    public ReadOnlySpan<byte> this[int id] => (uint)id < (uint)_bytes.Length ? _bytes[id] : null;

    public bool IsText(int id) => (uint)id < (uint)_bytes.Length && _bytes[id] is { Length: > 0 };

    public bool IsEos(int id) => EosTokenIds.Contains(id);

    /// <summary>The vocabulary of <paramref name="tokenizer"/>, built on first use and kept while the tokenizer lives.</summary>
    public static TokenVocabulary For(ITextTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Cache.GetValue(tokenizer, Build);
    }

    private static TokenVocabulary Build(ITextTokenizer tokenizer)
    {
        var bytes = new byte[]?[tokenizer.VocabularySize];
        var source = tokenizer as ITokenByteSource;
        for (int id = 0; id < bytes.Length; id++)
            bytes[id] = source is not null ? source.GetTokenBytes(id) : FromDecode(tokenizer, id);
        foreach (int eos in tokenizer.EosTokenIds)
        {
            if ((uint)eos < (uint)bytes.Length)
                bytes[eos] = null;
        }
        return new TokenVocabulary(bytes, tokenizer.EosTokenIds);
    }

    /// <summary>For tokenizers that cannot show their bytes: tokens decoding to whole characters only.</summary>
    private static byte[]? FromDecode(ITextTokenizer tokenizer, int id)
    {
        string text = tokenizer.Decode([id], skipSpecialTokens: true);
        return text.Length == 0 || text.Contains('\uFFFD') ? null : System.Text.Encoding.UTF8.GetBytes(text);
    }

    /// <summary>A vocabulary from explicit token bytes (tests, tools).</summary>
    internal static TokenVocabulary FromBytes(byte[]?[] bytes, IReadOnlyList<int> eosTokenIds) => new(bytes, eosTokenIds);
}

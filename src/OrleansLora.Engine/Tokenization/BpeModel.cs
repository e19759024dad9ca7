using System.Collections.Concurrent;
using System.Text;
using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// The BPE model of a Hugging Face tokenizer: vocabulary, ranked merges, and the word-level merge
/// loop. Symbols of a word are its characters (byte-level models) or code points with optional
/// <c>&lt;0xNN&gt;</c> byte fallback (SentencePiece-style models). Thread-safe after construction.
/// </summary>
internal sealed class BpeModel
{
    // Words longer than this are not cached: they are rare and would crowd out the common ones.
    private const int MaxCachedWordLength = 64;
    private const int MaxCacheEntries = 200_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    private readonly string?[] _idToToken;
    private readonly Dictionary<long, (int Rank, int NewId)> _merges;
    private readonly int[] _byteTokenIds;
    private readonly int? _unkId;
    private readonly bool _fuseUnk;
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    /// <param name="vocab">Token string to id.</param>
    /// <param name="merges">Merge rules, highest priority first.</param>
    /// <param name="source">File the data came from, for error messages.</param>
    public BpeModel(
        IReadOnlyDictionary<string, int> vocab,
        IReadOnlyList<(string Left, string Right)> merges,
        string? unkToken,
        bool fuseUnk,
        bool byteFallback,
        bool ignoreMerges,
        string source)
    {
        _vocab = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        _vocabBySpan = _vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        int maxId = -1;
        foreach (var (token, id) in _vocab)
        {
            if (id < 0)
                throw new ModelFormatException(source, $"vocabulary token \"{token}\" has negative id {id}.");
            maxId = Math.Max(maxId, id);
        }
        _idToToken = new string?[maxId + 1];
        foreach (var (token, id) in _vocab)
            _idToToken[id] = token;

        _merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!_vocab.TryGetValue(left, out int leftId) || !_vocab.TryGetValue(right, out int rightId))
                throw new ModelFormatException(source, $"merge {rank} \"{left} {right}\" uses a token missing from the vocabulary.");
            if (!_vocab.TryGetValue(left + right, out int newId))
                throw new ModelFormatException(source, $"merge {rank} \"{left} {right}\" produces \"{left + right}\", which is missing from the vocabulary.");
            // The first occurrence of a pair wins, as in Hugging Face tokenizers.
            _merges.TryAdd(PairKey(leftId, rightId), (rank, newId));
        }

        _byteTokenIds = new int[256];
        for (int b = 0; b < 256; b++)
            _byteTokenIds[b] = byteFallback && _vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
        ByteFallback = byteFallback;

        if (unkToken is not null)
        {
            if (!_vocab.TryGetValue(unkToken, out int unk))
                throw new ModelFormatException(source, $"unk_token \"{unkToken}\" is not in the vocabulary.");
            _unkId = unk;
        }
        _fuseUnk = fuseUnk;
        _ignoreMerges = ignoreMerges;
    }

    /// <summary>One more than the largest vocabulary id.</summary>
    public int Count => _idToToken.Length;

    public bool ByteFallback { get; }

    public bool TryGetId(string token, out int id) => _vocab.TryGetValue(token, out id);

    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    /// <summary>Appends the ids of one pre-tokenized word.</summary>
    public void EncodeWord(string word, List<int> output)
    {
        if (word.Length == 0)
            return;
        if (_cache.TryGetValue(word, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }
        if (_ignoreMerges && _vocab.TryGetValue(word, out int whole))
        {
            output.Add(whole);
            return;
        }

        var symbols = InitialSymbols(word);
        MergeAll(symbols);
        if (word.Length <= MaxCachedWordLength && _cache.Count < MaxCacheEntries)
            _cache.TryAdd(word, symbols.ToArray());
        output.AddRange(symbols);
    }

    private List<int> InitialSymbols(string word)
    {
        var symbols = new List<int>(word.Length);
        bool previousWasUnk = false;
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < word.Length;)
        {
            // Code points, not UTF-16 units: a surrogate pair is one SentencePiece symbol.
            int length = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            var piece = word.AsSpan(i, length);
            i += length;
            if (_vocabBySpan.TryGetValue(piece, out int id))
            {
                symbols.Add(id);
                previousWasUnk = false;
                continue;
            }
            if (ByteFallback && TryAddBytes(piece, utf8, symbols))
            {
                previousWasUnk = false;
                continue;
            }
            if (_unkId is not int unk)
                throw new ArgumentException($"Character U+{char.ConvertToUtf32(piece.ToString(), 0):X4} is not in the tokenizer vocabulary and the tokenizer has no unk_token or byte fallback.");
            if (!(_fuseUnk && previousWasUnk))
                symbols.Add(unk);
            previousWasUnk = true;
        }
        return symbols;
    }

    private bool TryAddBytes(ReadOnlySpan<char> piece, Span<byte> utf8, List<int> symbols)
    {
        int count = Encoding.UTF8.GetBytes(piece, utf8);
        for (int b = 0; b < count; b++)
        {
            if (_byteTokenIds[utf8[b]] < 0)
                return false;
        }
        for (int b = 0; b < count; b++)
            symbols.Add(_byteTokenIds[utf8[b]]);
        return true;
    }

    /// <summary>
    /// Applies merges lowest rank first, leftmost first on ties (the order of Hugging Face's
    /// <c>Word::merge_all</c> and of tiktoken), in O(n log n) so a long SentencePiece "word" (a whole
    /// prompt without pre-tokenization) stays cheap.
    /// </summary>
    private void MergeAll(List<int> symbols)
    {
        int n = symbols.Count;
        if (n < 2)
            return;
        int[] ids = symbols.ToArray();
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        // Element: position of the left symbol; priority: (rank, position) packed so ties go leftmost.
        var queue = new PriorityQueue<int, long>();
        for (int i = 0; i + 1 < n; i++)
        {
            if (_merges.TryGetValue(PairKey(ids[i], ids[i + 1]), out var m))
                queue.Enqueue(i, Priority(m.Rank, i));
        }

        while (queue.TryDequeue(out int pos, out long priority))
        {
            int right = next[pos];
            if (ids[pos] < 0 || right < 0)
                continue;
            // Entries go stale when a neighbour merged first; the pair must still be the queued one.
            if (!_merges.TryGetValue(PairKey(ids[pos], ids[right]), out var merge) || merge.Rank != (int)(priority >> 32))
                continue;

            ids[pos] = merge.NewId;
            ids[right] = -1;
            next[pos] = next[right];
            if (next[pos] >= 0)
                prev[next[pos]] = pos;

            if (prev[pos] >= 0 && _merges.TryGetValue(PairKey(ids[prev[pos]], ids[pos]), out var before))
                queue.Enqueue(prev[pos], Priority(before.Rank, prev[pos]));
            if (next[pos] >= 0 && _merges.TryGetValue(PairKey(ids[pos], ids[next[pos]]), out var after))
                queue.Enqueue(pos, Priority(after.Rank, pos));
        }

        symbols.Clear();
        for (int i = 0; i >= 0; i = next[i])
            symbols.Add(ids[i]);
    }

    private static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    private static long Priority(int rank, int position) => ((long)rank << 32) | (uint)position;
}

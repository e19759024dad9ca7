using System.Buffers;
using System.Numerics;

namespace OrleansLora.Engine.Constraints;

/// <summary>
/// A compiled grammar bound to one vocabulary: the byte automaton plus, per automaton state, the set of
/// tokens it admits (computed on first visit by one pass over the vocabulary trie, then cached and
/// shared by every sequence using this grammar, so a decoding step costs a mask copy, not a scan).
/// Per state it also keeps how far (in bytes, at least one per token) the state is from acceptance,
/// so a sequence near its token budget is steered to finish its output rather than be cut off.
/// Thread-safe: caches fill lazily and idempotently.
/// </summary>
public sealed class TokenGrammar
{
    // A mask with at most this many admitted tokens is applied by copying those logits out and back
    // around a vectorized fill, instead of walking the blocked bits.
    private const int SparseLimit = 2048;

    private readonly ByteDfa _dfa;
    private readonly StateMask?[] _masks;

    internal TokenGrammar(ByteDfa dfa, TokenVocabulary vocabulary, string key)
    {
        _dfa = dfa;
        Vocabulary = vocabulary;
        Key = key;
        _masks = new StateMask?[dfa.StateCount];
    }

    public TokenVocabulary Vocabulary { get; }

    /// <summary>The grammar's cache key (a hash of its spec).</summary>
    public string Key { get; }

    public int StateCount => _dfa.StateCount;

    public static int StartState => ByteDfa.Start;

    public bool IsAccepting(int state) => _dfa.IsAccepting(state);

    /// <summary>Bytes still needed at least before the output is complete.</summary>
    public int Distance(int state) => _dfa.Distance(state);

    /// <summary>The state after <paramref name="token"/>, or -1 when the grammar refuses it (EOS included: the caller ends on EOS).</summary>
    public int Advance(int state, int token) => Vocabulary.IsText(token) ? _dfa.Walk(state, Vocabulary[token]) : -1;

    /// <summary>Whether the grammar accepts <paramref name="text"/>'s UTF-8 bytes as a complete output.</summary>
    public bool Matches(string text) => _dfa.Matches(System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>How many automaton states have a cached mask (diagnostics and benchmarks).</summary>
    public int CachedMasks => _masks.Count(m => m is not null);

    /// <summary>
    /// Sets to -inf every logit the grammar refuses in <paramref name="state"/>, with
    /// <paramref name="remaining"/> tokens left including this one: EOS only where the output is
    /// complete, and near the end only tokens after which the output can still be completed in time.
    /// </summary>
    public void Apply(int state, int remaining, Span<float> logits)
    {
        var mask = Mask(state);
        if (remaining - 1 >= mask.MaxEndDistance)
        {
            if (mask.Allowed is int[] sparse)
                KeepOnly(sparse, sparse.Length, logits);
            else
                ApplyBits(mask.Bits, logits);
            return;
        }
        // Budget: admit only tokens after which the rest fits in the tokens left (each token moves at
        // least one byte). When even that is impossible, the closest ones.
        var (tokens, distances) = mask.ByDistance(this, state);
        int limit = Math.Max(remaining - 1, distances.Length > 0 ? distances[0] : 0);
        int count = 0;
        while (count < tokens.Length && distances[count] <= limit)
            count++;
        KeepOnly(tokens, count, logits);
    }

    /// <summary>The admitted token ids in <paramref name="state"/> (tests and tools).</summary>
    public IEnumerable<int> AllowedTokens(int state)
    {
        var bits = Mask(state).Bits;
        for (int w = 0; w < bits.Length; w++)
        {
            ulong word = bits[w];
            while (word != 0)
            {
                yield return w * 64 + BitOperations.TrailingZeroCount(word);
                word &= word - 1;
            }
        }
    }

    /// <summary>Computes every state's mask now (benchmarks measure the warm path; tests check them all).</summary>
    public void WarmAll()
    {
        for (int s = 0; s < _masks.Length; s++)
            Mask(s);
    }

    private StateMask Mask(int state)
    {
        var mask = Volatile.Read(ref _masks[state]);
        if (mask is not null)
            return mask;
        mask = BuildMask(state);
        return Interlocked.CompareExchange(ref _masks[state], mask, null) ?? mask;
    }

    private StateMask BuildMask(int state)
    {
        var v = Vocabulary;
        var bits = new ulong[(v.Count + 63) / 64];
        int maxEnd = 0, admitted = 0;
        Walk(state, (token, end) =>
        {
            bits[token >> 6] |= 1UL << token;
            maxEnd = Math.Max(maxEnd, _dfa.Distance(end));
            admitted++;
        });
        if (_dfa.IsAccepting(state))
        {
            foreach (int eos in v.EosTokenIds)
            {
                bits[eos >> 6] |= 1UL << eos;
                admitted++;
            }
        }
        int[]? sparse = null;
        if (admitted <= SparseLimit)
        {
            sparse = new int[admitted];
            int k = 0;
            for (int w = 0; w < bits.Length; w++)
            {
                ulong word = bits[w];
                while (word != 0)
                {
                    sparse[k++] = w * 64 + BitOperations.TrailingZeroCount(word);
                    word &= word - 1;
                }
            }
        }
        return new StateMask(bits, sparse, maxEnd);
    }

    /// <summary>Calls <paramref name="visit"/> with each admitted text token and the state after it (one trie pass).</summary>
    internal void Walk(int state, Action<int, int> visit)
    {
        var v = Vocabulary;
        var next = _dfa.Transitions;
        byte[] nodeByte = v.NodeByte;
        int[] nodeDepth = v.NodeDepth, nodeSkip = v.NodeSkip, start = v.NodeTokenStart, count = v.NodeTokenCount, sorted = v.SortedTokens;
        Span<int> stack = stackalloc int[v.MaxTokenBytes + 1];
        stack[0] = state;
        int n = v.NodeCount;
        for (int i = 1; i < n;)
        {
            int depth = nodeDepth[i];
            int q = next[stack[depth - 1] * 256 + nodeByte[i]];
            if (q < 0)
            {
                i = nodeSkip[i];
                continue;
            }
            stack[depth] = q;
            for (int k = start[i], e = start[i] + count[i]; k < e; k++)
                visit(sorted[k], q);
            i++;
        }
    }

    private static void ApplyBits(ulong[] bits, Span<float> logits)
    {
        int n = logits.Length;
        int words = (n + 63) / 64;
        for (int w = 0; w < words; w++)
        {
            ulong blocked = w < bits.Length ? ~bits[w] : ulong.MaxValue;
            if (blocked == 0)
                continue;
            int basis = w * 64;
            if (blocked == ulong.MaxValue && basis + 64 <= n)
            {
                logits.Slice(basis, 64).Fill(float.NegativeInfinity);
                continue;
            }
            while (blocked != 0)
            {
                int index = basis + BitOperations.TrailingZeroCount(blocked);
                if (index >= n)
                    break;
                logits[index] = float.NegativeInfinity;
                blocked &= blocked - 1;
            }
        }
    }

    private static void KeepOnly(int[] tokens, int count, Span<float> logits)
    {
        float[] saved = ArrayPool<float>.Shared.Rent(Math.Max(count, 1));
        try
        {
            for (int k = 0; k < count; k++)
                saved[k] = (uint)tokens[k] < (uint)logits.Length ? logits[tokens[k]] : float.NegativeInfinity;
            logits.Fill(float.NegativeInfinity);
            for (int k = 0; k < count; k++)
            {
                if ((uint)tokens[k] < (uint)logits.Length)
                    logits[tokens[k]] = saved[k];
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(saved);
        }
    }

    private sealed class StateMask(ulong[] bits, int[]? allowed, int maxEndDistance)
    {
        // A reference, so that threads filling it at once each publish a whole list (a struct could tear).
        private Tuple<int[], int[]>? _byDistance;

        public ulong[] Bits { get; } = bits;

        /// <summary>The admitted ids when few (EOS included), else null.</summary>
        public int[]? Allowed { get; } = allowed;

        /// <summary>The largest distance to acceptance after any admitted token.</summary>
        public int MaxEndDistance { get; } = maxEndDistance;

        /// <summary>Admitted tokens sorted by the distance left after them (EOS first, at 0, where accepted).</summary>
        public (int[] Tokens, int[] Distances) ByDistance(TokenGrammar grammar, int state)
        {
            if (Volatile.Read(ref _byDistance) is { } cached)
                return (cached.Item1, cached.Item2);
            var pairs = new List<(int Distance, int Token)>();
            if (grammar._dfa.IsAccepting(state))
            {
                foreach (int eos in grammar.Vocabulary.EosTokenIds)
                    pairs.Add((0, eos));
            }
            grammar.Walk(state, (token, end) => pairs.Add((grammar._dfa.Distance(end), token)));
            pairs.Sort();
            var result = Tuple.Create(pairs.Select(p => p.Token).ToArray(), pairs.Select(p => p.Distance).ToArray());
            Volatile.Write(ref _byDistance, result);
            return (result.Item1, result.Item2);
        }
    }
}

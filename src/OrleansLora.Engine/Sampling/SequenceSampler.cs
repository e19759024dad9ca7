using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace OrleansLora.Engine.Sampling;

/// <summary>
/// Picks the next token of one sequence from its row of logits, applying the logits processors in the
/// order HF transformers and vLLM use: repetition penalty (prompt + generated), presence/frequency
/// penalties (generated only), then greedy argmax if temperature is 0, else temperature, top-k, top-p
/// and a seeded draw. One instance per sequence; not thread-safe (it owns an RNG stream and token counts),
/// but separate instances may run on separate threads.
/// </summary>
/// <remarks>
/// Reproducibility: a sampled step consumes exactly one RNG value and a greedy step none; candidates are
/// ranked by a total order (logit for top-k, probability for top-p, then token id); selection and sums
/// run in a fixed order, independent of SIMD width. So the same seed, params and logits give the same tokens on every run. The
/// one platform dependence left is MathF.Exp, which a different libm may round differently in the last bit
/// (far below the run-to-run noise of GPU logits).
/// Cost per step is O(vocab) with no sort: top-k and top-p use selection, not sorting.
/// </remarks>
public sealed class SequenceSampler
{
    // Above this, a size-k heap scan loses to partitioning (its worst case is O(n log k)).
    private const int MaxTopKByScan = 1024;

    private readonly Xoshiro256StarStar _rng;
    private readonly bool _trackSeen;
    private readonly bool _trackCounts;

    // Distinct prompt + generated ids: HF applies the repetition penalty once per distinct id.
    private readonly HashSet<int> _seen = [];

    // Generated ids only, with multiplicity: OpenAI's presence/frequency penalties ignore the prompt.
    private readonly Dictionary<int, int> _generatedCounts = [];

    /// <param name="p">Validated here; an invalid value throws <see cref="ArgumentException"/>.</param>
    /// <param name="promptTokens">Feeds the repetition penalty, which (as in HF/vLLM) also covers the prompt.</param>
    /// <param name="processor">Edits each row after the penalties and before the choice (e.g. a grammar mask); null: none.</param>
    public SequenceSampler(SamplingParams p, IReadOnlyList<int> promptTokens, ILogitsProcessor? processor = null)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(promptTokens);
        p.Validate();

        Params = p;
        Processor = processor;
        Seed = p.Seed ?? DrawRandomSeed();
        _rng = new Xoshiro256StarStar(Seed);
        _trackSeen = p.RepetitionPenalty != 1f;
        _trackCounts = p.PresencePenalty != 0f || p.FrequencyPenalty != 0f;

        for (int i = 0; i < promptTokens.Count; i++)
        {
            int token = promptTokens[i];
            ThrowIfNegative(token, nameof(promptTokens));
            if (_trackSeen)
                _seen.Add(token);
        }
    }

    public SamplingParams Params { get; }

    /// <summary>The request's logits processor, or null.</summary>
    public ILogitsProcessor? Processor { get; }

    /// <summary>The seed actually in use: the requested one, or the random one drawn when none was given, so a
    /// response can report it and the client can replay the generation.</summary>
    public ulong Seed { get; }

    /// <summary>
    /// Chooses the next token. Does not record it: call <see cref="Accept"/> with the token the sequence
    /// actually continues with. NaN logits count as -inf (never chosen).
    /// </summary>
    /// <exception cref="InvalidOperationException">Every logit is -inf or NaN, so no token can be chosen.</exception>
    public int Sample(ReadOnlySpan<float> logits) => Sample(logits, out _);

    /// <summary>
    /// Chooses the next token as <see cref="Sample(ReadOnlySpan{float})"/> does and, when
    /// <see cref="SamplingParams.Logprobs"/> is set, reports the log-probabilities of the row it chose from
    /// (after penalties and the processor, before temperature); null otherwise. The choice is the same either way.
    /// </summary>
    public int Sample(ReadOnlySpan<float> logits, out SampleLogprobs? logprobs)
    {
        logprobs = null;
        if (logits.IsEmpty)
            throw new ArgumentException("logits must not be empty.", nameof(logits));

        int n = logits.Length;
        // Pooled rather than per-instance: a batch of hundreds of sequences would otherwise pin a
        // vocab-sized buffer each, while steady state still allocates nothing.
        float[] work = ArrayPool<float>.Shared.Rent(n);
        try
        {
            Span<float> scores = work.AsSpan(0, n);
            CopyReplacingNaN(logits, scores);
            ApplyPenalties(scores);
            if (Processor is { } processor)
            {
                processor.Process(scores);
                CopyReplacingNaN(scores, scores); // a processor's NaN counts as -inf, like the model's
            }

            float max = Max(scores);
            if (max == float.NegativeInfinity)
                throw new InvalidOperationException("all logits are -inf/NaN");
            if (Params.Logprobs is not { } top)
            {
                if (Params.Temperature == 0f)
                    return scores.IndexOf(max); // first occurrence: ties go to the lowest id, as torch.argmax
                return Draw(work, n, max);
            }

            // Drawing overwrites the scores with softmax numerators, so the chosen token's score is read from a copy.
            var distribution = LogSoftmax.Of(work, n, max, top);
            int token;
            float chosenScore;
            if (Params.Temperature == 0f)
            {
                token = scores.IndexOf(max);
                chosenScore = max;
            }
            else
            {
                float[] copy = ArrayPool<float>.Shared.Rent(n);
                try
                {
                    scores.CopyTo(copy);
                    token = Draw(work, n, max);
                    chosenScore = copy[token];
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(copy);
                }
            }

            logprobs = new SampleLogprobs(new TokenLogprob(token, distribution.Logprob(chosenScore)), distribution.Top);
            return token;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(work);
        }
    }

    /// <summary>Records a generated token so later steps penalise it, and passes it to the logits processor.</summary>
    public void Accept(int token)
    {
        ThrowIfNegative(token, nameof(token));
        Processor?.Accept(token);
        if (_trackSeen)
            _seen.Add(token);
        if (_trackCounts)
            CollectionsMarshal.GetValueRefOrAddDefault(_generatedCounts, token, out _)++;
    }

    /// <summary>
    /// Repetition penalty, then presence/frequency penalties, in place. Ids beyond the span are skipped:
    /// models pad their vocabulary, and a tokenizer id the logits don't cover cannot be sampled anyway.
    /// </summary>
    internal void ApplyPenalties(Span<float> logits)
    {
        if (_trackSeen)
        {
            float penalty = Params.RepetitionPenalty;
            foreach (int token in _seen)
            {
                if (token >= logits.Length)
                    continue;
                float x = logits[token];
                // CTRL: dividing a negative logit would raise it, so negatives are multiplied instead.
                logits[token] = x > 0 ? x / penalty : x * penalty;
            }
        }

        if (_trackCounts)
        {
            float frequency = Params.FrequencyPenalty, presence = Params.PresencePenalty;
            foreach ((int token, int count) in _generatedCounts)
            {
                if (token < logits.Length)
                    logits[token] -= frequency * count + presence;
            }
        }
    }

    private int Draw(float[] work, int n, float max)
    {
        var numerator = new SoftmaxNumerator(max, Params.Temperature);
        bool useTopK = Params.TopK > 0 && Params.TopK < n;
        bool useTopP = Params.TopP < 1f;
        if (!useTopK)
        {
            double total = ToNumerators(work.AsSpan(0, n), numerator);
            if (!useTopP)
                return DrawFromAll(work.AsSpan(0, n), total);

            int[] nucleus = ArrayPool<int>.Shared.Rent(n);
            try
            {
                int count = TokenRanking.SelectNucleus(work, n, Params.TopP * total, nucleus);
                return DrawFrom(nucleus.AsSpan(0, count), work);
            }
            finally
            {
                ArrayPool<int>.Shared.Return(nucleus);
            }
        }

        int[] rented = ArrayPool<int>.Shared.Rent(Params.TopK <= MaxTopKByScan ? Params.TopK : n);
        try
        {
            // Rank on the logits (temperature does not change the order); exponentiate only the k survivors.
            Span<int> candidates = rented.AsSpan(0, Params.TopK);
            if (Params.TopK <= MaxTopKByScan)
            {
                TokenRanking.SelectTopByScan(work.AsSpan(0, n), candidates);
            }
            else
            {
                Span<int> all = rented.AsSpan(0, n);
                for (int i = 0; i < n; i++)
                    all[i] = i;
                TokenRanking.SelectTop(all, work, Params.TopK);
            }

            double mass = 0;
            foreach (int token in candidates)
                mass += work[token] = numerator.Of(work[token]);

            if (useTopP)
            {
                // Measured against the mass of the k survivors, as HF and vLLM do (they mask to -inf, then
                // softmax again). The best token's numerator is ~1, so the nucleus is never empty.
                int last = TokenRanking.SelectNucleus(candidates, work, Params.TopP * mass);
                candidates = candidates[..(last + 1)];
            }

            return DrawFrom(candidates, work);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// exp((x - max) / T): relative to the max, so every numerator is at most ~1 and nothing overflows.
    /// A +inf max means only the +inf logits can win, equally.
    /// </summary>
    private readonly struct SoftmaxNumerator
    {
        private readonly float _max;
        private readonly float _inverseTemperature;

        public SoftmaxNumerator(float max, float temperature)
        {
            _max = max;
            // Clamped so a tiny temperature cannot make it +inf: 0 * inf would be NaN for the max token.
            // Float, not double, arithmetic: measured ~2.5x faster over a 128k vocabulary.
            _inverseTemperature = MathF.Min(1f / temperature, float.MaxValue);
        }

        public float Of(float x)
        {
            if (float.IsPositiveInfinity(_max))
                return float.IsPositiveInfinity(x) ? 1f : 0f;
            return MathF.Exp((x - _max) * _inverseTemperature);
        }
    }

    /// <summary>Replaces each logit with its softmax numerator and returns their sum.</summary>
    private static double ToNumerators(Span<float> scores, SoftmaxNumerator numerator)
    {
        double total = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            float w = numerator.Of(scores[i]);
            scores[i] = w;
            total += w; // sequential: the same sum, bit for bit, whatever the hardware's vector width
        }

        return total;
    }

    private int DrawFromAll(ReadOnlySpan<float> numerators, double total)
    {
        double u = _rng.NextDouble() * total;
        double cumulative = 0;
        int lastPositive = 0;
        for (int i = 0; i < numerators.Length; i++)
        {
            if (numerators[i] == 0f)
                continue;
            cumulative += numerators[i];
            lastPositive = i;
            if (u < cumulative)
                return i;
        }

        return lastPositive; // unreachable unless rounding put u at the very end
    }

    /// <summary>Draws among the candidates in proportion to their numerators (normalised over the candidates).</summary>
    private int DrawFrom(ReadOnlySpan<int> candidates, float[] numerators)
    {
        double mass = 0;
        foreach (int token in candidates)
            mass += numerators[token];

        double u = _rng.NextDouble() * mass;
        double cumulative = 0;
        int lastPositive = candidates[0];
        foreach (int token in candidates)
        {
            float w = numerators[token];
            if (w == 0f)
                continue;
            cumulative += w;
            lastPositive = token;
            if (u < cumulative)
                return token;
        }

        return lastPositive;
    }

    private static void CopyReplacingNaN(ReadOnlySpan<float> source, Span<float> destination)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var negativeInfinity = new Vector<float>(float.NegativeInfinity);
            for (; i <= source.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var v = new Vector<float>(source[i..]);
                // NaN is the only value not equal to itself.
                Vector.ConditionalSelect(Vector.Equals(v, v), v, negativeInfinity).CopyTo(destination[i..]);
            }
        }

        for (; i < source.Length; i++)
            destination[i] = float.IsNaN(source[i]) ? float.NegativeInfinity : source[i];
    }

    /// <summary>Max of NaN-free scores.</summary>
    private static float Max(ReadOnlySpan<float> scores)
    {
        float max = float.NegativeInfinity;
        int i = 0;
        if (Vector.IsHardwareAccelerated && scores.Length >= Vector<float>.Count)
        {
            var acc = new Vector<float>(float.NegativeInfinity);
            for (; i <= scores.Length - Vector<float>.Count; i += Vector<float>.Count)
                acc = Vector.Max(acc, new Vector<float>(scores[i..]));
            for (int lane = 0; lane < Vector<float>.Count; lane++)
                max = MathF.Max(max, acc[lane]);
        }

        for (; i < scores.Length; i++)
            max = MathF.Max(max, scores[i]);
        return max;
    }

    private static ulong DrawRandomSeed()
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        RandomNumberGenerator.Fill(bytes);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    private static void ThrowIfNegative(int token, string paramName)
    {
        if (token < 0)
            throw new ArgumentOutOfRangeException(paramName, token, "token ids must be >= 0.");
    }
}

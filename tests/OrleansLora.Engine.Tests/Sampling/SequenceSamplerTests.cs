using OrleansLora.Engine.Sampling;

namespace OrleansLora.Engine.Tests.Sampling;

public sealed class SequenceSamplerTests
{
    private static readonly float[] FiveLogits = [1.0f, 2.0f, 0.5f, -1.0f, 1.5f];

    private static SequenceSampler Sampler(SamplingParams p, params int[] prompt) => new(p, prompt);

    private static double[] AsDouble(float[] logits) => logits.Select(x => (double)x).ToArray();

    [Fact]
    public void Greedy_ReturnsArgMax()
    {
        var rng = new Random(1234);
        var sampler = Sampler(SamplingParams.Greedy);
        for (int trial = 0; trial < 50; trial++)
        {
            float[] logits = Enumerable.Range(0, 1000).Select(_ => (float)(rng.NextDouble() * 20 - 10)).ToArray();
            int expected = Array.IndexOf(logits, logits.Max());
            Assert.Equal(expected, sampler.Sample(logits));
        }
    }

    [Fact]
    public void Greedy_TiesGoToLowestIndex_AndNaNIsNeverChosen()
    {
        var sampler = Sampler(SamplingParams.Greedy);
        Assert.Equal(1, sampler.Sample([0f, 3f, 1f, 3f]));
        Assert.Equal(2, sampler.Sample([float.NaN, -5f, 1f, float.NegativeInfinity]));
        Assert.Equal(1, sampler.Sample([-1f, -0f, 0f])); // -0 == +0: still the lowest id
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    public void AllLogitsMasked_Throws(float temperature)
    {
        var sampler = Sampler(new SamplingParams { Temperature = temperature, Seed = 1 });
        var ex = Assert.Throws<InvalidOperationException>(
            () => sampler.Sample([float.NegativeInfinity, float.NaN, float.NegativeInfinity]));
        Assert.Contains("all logits are -inf/NaN", ex.Message);
    }

    [Fact]
    public void Sampling_NeverPicksNaNOrNegativeInfinity()
    {
        var sampler = Sampler(new SamplingParams { Seed = 9 });
        float[] logits = [float.NaN, 0f, float.NegativeInfinity, 0f];
        for (int i = 0; i < 2000; i++)
            Assert.Contains(sampler.Sample(logits), new[] { 1, 3 });
    }

    [Fact]
    public void PositiveInfinityLogit_IsAlwaysChosen()
    {
        var sampler = Sampler(new SamplingParams { Seed = 3, TopP = 0.5f });
        for (int i = 0; i < 100; i++)
            Assert.Equal(2, sampler.Sample([5f, 1f, float.PositiveInfinity, 4f]));
    }

    private static int[] Draws(ulong seed, int count, SamplingParams? p = null)
    {
        var sampler = Sampler((p ?? new SamplingParams()) with { Seed = seed });
        float[] uniform = new float[5];
        return Enumerable.Range(0, count).Select(_ => sampler.Sample(uniform)).ToArray();
    }

    [Fact]
    public void SameSeed_GivesIdenticalDraws_DifferentSeedDoesNot()
    {
        Assert.Equal(Draws(42, 200), Draws(42, 200));
        Assert.NotEqual(Draws(42, 200), Draws(43, 200));

        var filtered = new SamplingParams { TopK = 4, TopP = 0.9f, Temperature = 0.7f };
        Assert.Equal(Draws(7, 200, filtered), Draws(7, 200, filtered));
        Assert.NotEqual(Draws(7, 200, filtered), Draws(8, 200, filtered));
    }

    [Fact]
    public void Seed_IsReported_AndRandomSeedCanBeReplayed()
    {
        Assert.Equal(42UL, Sampler(new SamplingParams { Seed = 42 }).Seed);

        var a = Sampler(new SamplingParams());
        var b = Sampler(new SamplingParams());
        Assert.NotEqual(a.Seed, b.Seed); // 2^-64 chance of a false failure

        var replay = Sampler(new SamplingParams { Seed = a.Seed });
        float[] uniform = new float[7];
        for (int i = 0; i < 100; i++)
            Assert.Equal(a.Sample(uniform), replay.Sample(uniform));
    }

    [Fact]
    public void Seed_DrawSequenceIsPinned()
    {
        // Pins the RNG -> token mapping: a change here breaks every user's seeded replay.
        // First xoshiro256** draws for seed 42 (SplitMix64 seeding), as doubles: 0.0839, 0.3790, 0.6800, 0.9247;
        // with 4 equally likely tokens that is tokens 0, 1, 2, 3.
        Assert.Equal([0, 1, 2, 3], Draws4(42));

        static int[] Draws4(ulong seed)
        {
            var sampler = Sampler(new SamplingParams { Seed = seed });
            float[] uniform = new float[4];
            return Enumerable.Range(0, 4).Select(_ => sampler.Sample(uniform)).ToArray();
        }
    }

    [Fact]
    public void Temperature1_EmpiricalDistributionMatchesSoftmax()
    {
        var sampler = Sampler(new SamplingParams { Temperature = 1f, Seed = 2024 });
        int[] counts = SamplingStats.Histogram(() => sampler.Sample(FiveLogits), 5, 20_000);
        double chi = SamplingStats.ChiSquare(counts, SamplingStats.Softmax(AsDouble(FiveLogits)));
        Assert.True(chi < SamplingStats.Critical001(4), $"chi-square {chi:F2}, counts [{string.Join(", ", counts)}]");
    }

    [Fact]
    public void Temperature05_SharpensToSoftmaxOfScaledLogits()
    {
        var sampler = Sampler(new SamplingParams { Temperature = 0.5f, Seed = 77 });
        int[] counts = SamplingStats.Histogram(() => sampler.Sample(FiveLogits), 5, 20_000);

        double[] sharpened = SamplingStats.Softmax(AsDouble(FiveLogits), temperature: 0.5);
        double chi = SamplingStats.ChiSquare(counts, sharpened);
        Assert.True(chi < SamplingStats.Critical001(4), $"chi-square {chi:F2}, counts [{string.Join(", ", counts)}]");

        // And it is really sharper: far from the temperature-1 distribution, more mass on the argmax.
        double[] plain = SamplingStats.Softmax(AsDouble(FiveLogits));
        Assert.True(SamplingStats.ChiSquare(counts, plain) > 1000);
        Assert.True(counts[1] / 20_000.0 > plain[1] + 0.1);
    }

    [Fact]
    public void TopK2_OnlySamplesTheTwoLargest_InSoftmaxProportion()
    {
        var sampler = Sampler(new SamplingParams { TopK = 2, Seed = 5 });
        int[] counts = SamplingStats.Histogram(() => sampler.Sample(FiveLogits), 5, 20_000);

        // Two largest: index 1 (2.0) and index 4 (1.5), renormalised between themselves.
        double[] expected = new double[5];
        double[] pair = SamplingStats.Softmax([2.0, 1.5]);
        (expected[1], expected[4]) = (pair[0], pair[1]);
        double chi = SamplingStats.ChiSquare(counts, expected); // also asserts the other cells are empty
        Assert.True(chi < SamplingStats.Critical001(1), $"chi-square {chi:F2}, counts [{string.Join(", ", counts)}]");
    }

    [Theory]
    [InlineData(300)]  // heap scan
    [InlineData(3000)] // partitioning
    public void TopK_OnALargeVocabulary_StaysInTheKLargest(int k)
    {
        var rng = new Random(k);
        float[] logits = Enumerable.Range(0, 30_000).Select(_ => (float)(rng.NextDouble() * 2)).ToArray();
        HashSet<int> topK = Enumerable.Range(0, logits.Length)
            .OrderByDescending(i => logits[i]).ThenBy(i => i).Take(k).ToHashSet();

        var sampler = Sampler(new SamplingParams { TopK = k, Temperature = 0.1f, Seed = 3 });
        var seen = new HashSet<int>();
        for (int i = 0; i < 1500; i++)
        {
            int token = sampler.Sample(logits);
            Assert.Contains(token, topK);
            seen.Add(token);
        }

        Assert.True(seen.Count > 20, $"only {seen.Count} distinct tokens drawn");
    }

    [Fact]
    public void TopK_TiesAtTheCutoff_BreakTowardsLowerIds()
    {
        var sampler = Sampler(new SamplingParams { TopK = 2, Seed = 11 });
        float[] logits = [1f, 3f, 1f, 1f];
        int[] counts = SamplingStats.Histogram(() => sampler.Sample(logits), 4, 5000);
        Assert.True(counts[0] > 0 && counts[1] > 0);
        Assert.Equal(0, counts[2] + counts[3]);
    }

    /// <summary>Smallest best-first prefix with float64 mass >= topP, as a set of ids.</summary>
    private static HashSet<int> ExpectedNucleus(float[] logits, double topP, double temperature = 1.0)
    {
        double[] p = SamplingStats.Softmax(AsDouble(logits), temperature);
        var order = Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).ThenBy(i => i);
        var nucleus = new HashSet<int>();
        double cumulative = 0;
        foreach (int i in order)
        {
            nucleus.Add(i);
            cumulative += p[i];
            if (cumulative >= topP)
                break;
        }

        return nucleus;
    }

    [Fact]
    public void TopP06_KeepsExactlyTheExpectedNucleus()
    {
        float[] logits = [1.0f, 3.0f, 0.5f, 2.6f, -1.0f, 2.0f];
        HashSet<int> nucleus = ExpectedNucleus(logits, 0.6);
        Assert.InRange(nucleus.Count, 2, logits.Length - 1); // the case must actually cut something

        var sampler = Sampler(new SamplingParams { TopP = 0.6f, Seed = 99 });
        int[] counts = SamplingStats.Histogram(() => sampler.Sample(logits), logits.Length, 20_000);

        double[] p = SamplingStats.Softmax(AsDouble(logits));
        double kept = nucleus.Sum(i => p[i]);
        double[] expected = p.Select((x, i) => nucleus.Contains(i) ? x / kept : 0).ToArray();
        double chi = SamplingStats.ChiSquare(counts, expected); // asserts nothing outside the nucleus
        Assert.True(chi < SamplingStats.Critical001(nucleus.Count - 1), $"chi-square {chi:F2}");
        Assert.All(nucleus, i => Assert.True(counts[i] > 0, $"token {i} of the nucleus never drawn"));
    }

    [Fact]
    public void TopP_OnALargeVocabulary_MatchesTheFloat64Nucleus()
    {
        // Flat-ish logits make the nucleus hundreds of tokens, so the lazy ranking must grow past its first chunk.
        var rng = new Random(31);
        float[] logits = Enumerable.Range(0, 50_000).Select(_ => (float)(rng.NextDouble() * 8)).ToArray();
        HashSet<int> nucleus = ExpectedNucleus(logits, 0.5, temperature: 0.8);
        Assert.True(nucleus.Count > 1000, $"nucleus of {nucleus.Count}");

        var sampler = Sampler(new SamplingParams { TopP = 0.5f, Temperature = 0.8f, Seed = 4 });
        var seen = new HashSet<int>();
        for (int i = 0; i < 1500; i++)
        {
            int token = sampler.Sample(logits);
            Assert.Contains(token, nucleus);
            seen.Add(token);
        }

        Assert.True(seen.Count > nucleus.Count / 3);
    }

    [Fact]
    public void TopKThenTopP_MeasuresMassWithinTheKSurvivors()
    {
        // Over the full softmax, top_p = 0.6 would need 3 tokens: [3.0, 2.6, 2.0]. Among the top 3 only,
        // renormalised, 3.0 and 2.6 already reach 0.6 (as in HF/vLLM, which softmax again after top-k).
        float[] logits = [1.0f, 3.0f, 0.5f, 2.6f, -1.0f, 2.0f];
        HashSet<int> expected = ExpectedNucleus([3.0f, 2.6f, 2.0f], 0.6).Select(i => new[] { 1, 3, 5 }[i]).ToHashSet();
        Assert.Equal(new HashSet<int> { 1, 3 }, expected);

        var sampler = Sampler(new SamplingParams { TopK = 3, TopP = 0.6f, Seed = 8 });
        int[] counts = SamplingStats.Histogram(() => sampler.Sample(logits), logits.Length, 5000);
        Assert.Equal(expected, Enumerable.Range(0, logits.Length).Where(i => counts[i] > 0).ToHashSet());
    }

    [Fact]
    public void TopKThenTopP_OnALargeVocabulary_MatchesTheFloat64Nucleus()
    {
        var rng = new Random(17);
        float[] logits = Enumerable.Range(0, 30_000).Select(_ => (float)(rng.NextDouble() * 6)).ToArray();
        const int k = 400;
        int[] survivors = Enumerable.Range(0, logits.Length)
            .OrderByDescending(i => logits[i]).ThenBy(i => i).Take(k).ToArray();
        HashSet<int> nucleus = ExpectedNucleus(survivors.Select(i => logits[i]).ToArray(), 0.5, temperature: 0.05)
            .Select(j => survivors[j]).ToHashSet();
        Assert.InRange(nucleus.Count, 20, k - 20);

        var sampler = Sampler(new SamplingParams { TopK = k, TopP = 0.5f, Temperature = 0.05f, Seed = 12 });
        var seen = new HashSet<int>();
        for (int i = 0; i < 2000; i++)
        {
            int token = sampler.Sample(logits);
            Assert.Contains(token, nucleus);
            seen.Add(token);
        }

        Assert.True(seen.Count > nucleus.Count / 2, $"{seen.Count} of {nucleus.Count} drawn");
    }

    [Fact]
    public void TopP_AlwaysKeepsAtLeastOneToken()
    {
        var sampler = Sampler(new SamplingParams { TopP = 1e-6f, Seed = 1 });
        for (int i = 0; i < 200; i++)
            Assert.Equal(1, sampler.Sample(FiveLogits));
    }

    [Fact]
    public void RepetitionPenalty_MatchesHandComputedExample()
    {
        // Prompt has ids 0 and 2, generation adds 3 (and 0 again: counted once). Id 1 and 4 are unseen.
        var sampler = Sampler(new SamplingParams { RepetitionPenalty = 1.3f }, 0, 2, 0);
        sampler.Accept(3);
        sampler.Accept(0);

        float[] logits = [2.0f, 1.0f, -1.5f, 0.5f, -0.25f];
        sampler.ApplyPenalties(logits);

        double[] expected = [2.0 / 1.3, 1.0, -1.5 * 1.3, 0.5 / 1.3, -0.25];
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], logits[i], 1e-6);
    }

    [Fact]
    public void RepetitionPenalty_ChangesTheGreedyChoice()
    {
        var sampler = Sampler(SamplingParams.Greedy with { RepetitionPenalty = 2f }, 0);
        // 2.0 / 2 = 1.0 < 1.5, so id 1 wins; without the penalty id 0 would.
        Assert.Equal(1, sampler.Sample([2.0f, 1.5f, 0f]));
        Assert.Equal(0, Sampler(SamplingParams.Greedy, 0).Sample([2.0f, 1.5f, 0f]));
    }

    [Fact]
    public void PresenceAndFrequencyPenalties_CountGeneratedTokensOnly()
    {
        var sampler = Sampler(new SamplingParams { PresencePenalty = 0.5f, FrequencyPenalty = 0.25f }, 3, 3, 4);
        sampler.Accept(1);
        sampler.Accept(1);
        sampler.Accept(1);
        sampler.Accept(2);

        float[] logits = [1.0f, 1.0f, -1.0f, 1.0f, 1.0f];
        sampler.ApplyPenalties(logits);

        // OpenAI: mu[j] -= c[j] * frequency + (c[j] > 0) * presence; prompt ids 3 and 4 are untouched.
        double[] expected = [1.0, 1.0 - 3 * 0.25 - 0.5, -1.0 - 0.25 - 0.5, 1.0, 1.0];
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], logits[i], 1e-6);
    }

    [Fact]
    public void NegativePresencePenalty_EncouragesRepeats()
    {
        var sampler = Sampler(SamplingParams.Greedy with { PresencePenalty = -1f });
        Assert.Equal(0, sampler.Sample([1.0f, 0.5f]));
        sampler.Accept(1);
        Assert.Equal(1, sampler.Sample([1.0f, 0.5f]));
    }

    [Fact]
    public void Penalties_ApplyBeforeGreedyAndCombine()
    {
        // id 0: 3.0 / 1.5 = 2.0, then - 0.5 presence - 2 * 0.3 frequency = 0.9 < 1.0 of id 1.
        var sampler = Sampler(SamplingParams.Greedy with
        {
            RepetitionPenalty = 1.5f, PresencePenalty = 0.5f, FrequencyPenalty = 0.3f,
        });
        Assert.Equal(0, sampler.Sample([3.0f, 1.0f]));
        sampler.Accept(0);
        Assert.Equal(0, sampler.Sample([3.0f, 1.0f])); // 2.0 - 0.5 - 0.3 = 1.2
        sampler.Accept(0);
        Assert.Equal(1, sampler.Sample([3.0f, 1.0f]));
    }

    [Fact]
    public void TokenIdsBeyondTheLogits_AreIgnored()
    {
        var sampler = Sampler(SamplingParams.Greedy with { RepetitionPenalty = 2f, FrequencyPenalty = 1f }, 10);
        sampler.Accept(20);
        Assert.Equal(0, sampler.Sample([1f, 0f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Accept(-1));
    }

    [Fact]
    public void Constructor_ValidatesParams()
    {
        var ex = Assert.Throws<ArgumentException>(() => Sampler(new SamplingParams { TopP = 0f }));
        Assert.Equal(nameof(SamplingParams.TopP), ex.ParamName);
    }

    [Theory]
    [InlineData(0f, 0, 1f)]
    [InlineData(1f, 0, 1f)]
    [InlineData(1f, 50, 1f)]
    [InlineData(0.8f, 0, 0.9f)]
    [InlineData(0.8f, 50, 0.9f)]
    public void Sample_DoesNotAllocatePerVocabularyEntry(float temperature, int topK, float topP)
    {
        var rng = new Random(2);
        float[] logits = Enumerable.Range(0, 128_256).Select(_ => (float)(rng.NextDouble() * 10)).ToArray();
        var sampler = Sampler(new SamplingParams
        {
            Temperature = temperature, TopK = topK, TopP = topP, Seed = 1, RepetitionPenalty = 1.1f, PresencePenalty = 0.1f,
        }, 1, 2, 3);
        sampler.Accept(sampler.Sample(logits)); // warm the pool and JIT

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
            sampler.Accept(sampler.Sample(logits));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // One vocab-sized float buffer is 512 KB; 20 steps must stay far below even one.
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated over 20 steps");
    }
    private sealed class RecordingProcessor(int masked) : ILogitsProcessor
    {
        public float[]? Seen { get; private set; }
        public List<int> Accepted { get; } = [];

        public void Process(Span<float> logits)
        {
            Seen = logits.ToArray();
            logits[masked] = float.NegativeInfinity;
        }

        public void Accept(int tokenId) => Accepted.Add(tokenId);
    }

    [Fact]
    public void LogitsProcessor_SeesPenalisedLogits_AndItsMaskDecides()
    {
        // Token 1 is in the prompt: a repetition penalty of 2 halves it before the processor sees it.
        var processor = new RecordingProcessor(masked: 4);
        var sampler = new SequenceSampler(SamplingParams.Greedy with { RepetitionPenalty = 2f }, [1], processor);
        int chosen = sampler.Sample(FiveLogits);
        Assert.Equal([1.0f, 1.0f, 0.5f, -1.0f, 1.5f], processor.Seen!);
        Assert.Equal(0, chosen); // 4 (1.5) was masked; 0 and 1 tie at 1.0, the lowest id wins
        sampler.Accept(chosen);
        Assert.Equal([0], processor.Accepted);
    }

    [Fact]
    public void LogitsProcessor_ThatMasksEverything_Throws()
    {
        var all = new RecordingProcessor(masked: 0);
        var sampler = new SequenceSampler(SamplingParams.Greedy, [], all);
        Assert.Throws<InvalidOperationException>(() => sampler.Sample([1f]));
    }
}

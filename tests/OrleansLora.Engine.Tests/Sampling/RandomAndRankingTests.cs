using OrleansLora.Engine.Sampling;

namespace OrleansLora.Engine.Tests.Sampling;

public sealed class RandomAndRankingTests
{
    [Fact]
    public void Xoshiro256StarStar_MatchesReferenceImplementation()
    {
        // Outputs of Vigna's xoshiro256starstar.c with state {1, 2, 3, 4}.
        var rng = new Xoshiro256StarStar(1, 2, 3, 4);
        ulong[] expected = [11520, 0, 1509978240, 1215971899390074240, 1216172134540287360, 607988272756665600];
        Assert.Equal(expected, expected.Select(_ => rng.NextUInt64()).ToArray());
    }

    [Fact]
    public void SplitMix64Seeding_MatchesReferenceImplementation()
    {
        ulong x = 0;
        Assert.Equal(16294208416658607535UL, Xoshiro256StarStar.SplitMix64(ref x));
        Assert.Equal(7960286522194355700UL, Xoshiro256StarStar.SplitMix64(ref x));

        // Reference C: seed the state with four splitmix64(42) outputs, then xoshiro256**.
        var rng = new Xoshiro256StarStar(42);
        Assert.Equal(1546998764402558742UL, rng.NextUInt64());
        Assert.Equal(6990951692964543102UL, rng.NextUInt64());
        Assert.Equal(12544586762248559009UL, rng.NextUInt64());
    }

    [Fact]
    public void NextDouble_IsInUnitInterval()
    {
        var rng = new Xoshiro256StarStar(5);
        for (int i = 0; i < 10_000; i++)
            Assert.InRange(rng.NextDouble(), 0.0, Math.BitDecrement(1.0));
    }

    private static float[] TiedScores(int seed, int n, bool allowNegativeInfinity)
    {
        var rng = new Random(seed);
        // Few distinct values, so ties (broken by id) are everywhere.
        return Enumerable.Range(0, n)
            .Select(_ => allowNegativeInfinity && rng.Next(10) == 0 ? float.NegativeInfinity : rng.Next(20) / 4f)
            .ToArray();
    }

    private static int[] BestFirst(float[] scores) =>
        Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();

    [Theory]
    [InlineData(1, 1000, 1)]
    [InlineData(2, 1000, 37)]
    [InlineData(3, 5000, 999)]
    [InlineData(4, 17, 16)]
    [InlineData(5, 3000, 64)]
    public void SelectTop_AndSelectTopByScan_PickTheSameSetAsAFullSort(int seed, int n, int count)
    {
        float[] scores = TiedScores(seed, n, allowNegativeInfinity: true);
        int[] reference = BestFirst(scores).Take(count).Order().ToArray();

        int[] ids = Enumerable.Range(0, n).ToArray();
        TokenRanking.SelectTop(ids, scores, count);
        Assert.Equal(reference, ids.Take(count).Order());

        int[] heap = new int[count];
        TokenRanking.SelectTopByScan(scores, heap);
        Assert.Equal(reference, heap.Order());
    }

    [Fact]
    public void SelectTop_HandlesSortedConstantAndReversedInput()
    {
        float[] ascending = Enumerable.Range(0, 10_000).Select(i => (float)i).ToArray();
        float[] descending = ascending.Reverse().ToArray();
        float[] constant = new float[10_000];
        foreach ((float[] scores, int[] expected) in new[]
        {
            (ascending, Enumerable.Range(9990, 10).ToArray()),
            (descending, Enumerable.Range(0, 10).ToArray()),
            (constant, Enumerable.Range(0, 10).ToArray()),
        })
        {
            int[] ids = Enumerable.Range(0, scores.Length).ToArray();
            TokenRanking.SelectTop(ids, scores, 10);
            Assert.Equal(expected, ids.Take(10).Order());

            int[] heap = new int[10];
            TokenRanking.SelectTopByScan(scores, heap);
            Assert.Equal(expected, heap.Order());
        }
    }

    /// <summary>Smallest best-first prefix whose float64 running sum reaches the target.</summary>
    private static int[] ReferenceNucleus(float[] scores, double target)
    {
        var nucleus = new List<int>();
        double cumulative = 0;
        foreach (int i in BestFirst(scores))
        {
            nucleus.Add(i);
            cumulative += scores[i];
            if (cumulative >= target)
                break;
        }

        return nucleus.Order().ToArray();
    }

    [Theory]
    [InlineData(1, 1000, 0.3)]
    [InlineData(2, 1000, 0.9)]
    [InlineData(3, 20_000, 0.5)]
    [InlineData(4, 20_000, 0.999)]
    [InlineData(5, 7, 0.01)]
    public void SelectNucleus_MatchesARunningSumOverTheSortedScores(int seed, int n, double topP)
    {
        // Numerator-like scores spread over many float exponents (so the bucketed variant has work in
        // several buckets), with exact ties and zeros.
        var rng = new Random(seed);
        float[] scores = Enumerable.Range(0, n)
            .Select(_ => rng.Next(12) == 0 ? 0f : MathF.Exp(-rng.Next(64) / 4f)).ToArray();
        // Halfway between two attainable running sums, so the expected set does not hinge on rounding.
        double[] running = BestFirst(scores).Select(i => (double)scores[i]).ToArray();
        for (int i = 1; i < running.Length; i++)
            running[i] += running[i - 1];
        double goal = topP * running[^1];
        int at = Array.FindIndex(running, s => s >= goal);
        double target = at == 0 ? running[0] / 2 : (running[at - 1] + running[at]) / 2;
        int[] expected = ReferenceNucleus(scores, target);

        int[] ids = Enumerable.Range(0, n).ToArray();
        int last = TokenRanking.SelectNucleus(ids, scores, target);
        Assert.Equal(expected, ids.Take(last + 1).Order());

        int[] buffer = new int[n];
        int count = TokenRanking.SelectNucleus(scores, n, target, buffer);
        Assert.Equal(expected, buffer.Take(count).Order());
    }

    [Fact]
    public void SelectNucleus_UnreachableTarget_KeepsEverything()
    {
        float[] scores = [0.5f, 0.25f, 0f, 0.125f];
        int[] ids = [0, 1, 2, 3];
        Assert.Equal(3, TokenRanking.SelectNucleus(ids, scores, 10.0));
        int[] buffer = new int[4];
        Assert.Equal(4, TokenRanking.SelectNucleus(scores, 4, 10.0, buffer));
    }
}

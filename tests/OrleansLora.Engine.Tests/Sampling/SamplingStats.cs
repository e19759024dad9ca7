namespace OrleansLora.Engine.Tests.Sampling;

/// <summary>Reference maths in float64, independent of the sampler's own code paths.</summary>
internal static class SamplingStats
{
    public static double[] Softmax(IReadOnlyList<double> logits, double temperature = 1.0)
    {
        double max = logits.Max();
        double[] p = logits.Select(x => Math.Exp((x - max) / temperature)).ToArray();
        double sum = p.Sum();
        for (int i = 0; i < p.Length; i++)
            p[i] /= sum;
        return p;
    }

    public static int[] Histogram(Func<int> draw, int vocab, int draws)
    {
        int[] counts = new int[vocab];
        for (int i = 0; i < draws; i++)
            counts[draw()]++;
        return counts;
    }

    /// <summary>Pearson chi-square of observed counts against expected probabilities (cells with p = 0 must be empty).</summary>
    public static double ChiSquare(int[] counts, double[] probabilities)
    {
        int total = counts.Sum();
        double chi = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            if (probabilities[i] == 0)
            {
                Assert.Equal(0, counts[i]);
                continue;
            }

            double expected = total * probabilities[i];
            chi += (counts[i] - expected) * (counts[i] - expected) / expected;
        }

        return chi;
    }

    /// <summary>Chi-square critical values at p = 0.001, indexed by degrees of freedom.</summary>
    public static double Critical001(int degreesOfFreedom) => degreesOfFreedom switch
    {
        1 => 10.83,
        2 => 13.82,
        3 => 16.27,
        4 => 18.47,
        5 => 20.52,
        _ => throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom)),
    };
}

namespace OrleansLora.ClusterBench;

internal static class Percentiles
{
    /// <summary>Nearest-rank percentile (p in (0, 100]) of <paramref name="values"/>.</summary>
    public static double Of(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
            throw new ArgumentException("no values.", nameof(values));
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IEnumerable<double> values) => Of(values, 50);
}

namespace OrleansLora.Engine.Sampling;

/// <summary>
/// log_softmax of one row of scores, as <see cref="SampleLogprobs"/> reports it: logprob(x) = x - logZ with
/// logZ = max + ln Σ exp(score - max), accumulated in double so a 128k vocabulary loses no precision. One pass
/// for the sum and one size-k heap scan for the most likely tokens; nothing is sorted but the k survivors.
/// </summary>
internal readonly struct LogSoftmax
{
    private readonly double _logPartition;
    private readonly float _infiniteLogprob; // each +infinity score's share when the max is +infinity

    private LogSoftmax(double logPartition, float infiniteLogprob, IReadOnlyList<TokenLogprob> top)
    {
        _logPartition = logPartition;
        _infiniteLogprob = infiniteLogprob;
        Top = top;
    }

    /// <summary>The most likely tokens, best first, ties to the lower id.</summary>
    public IReadOnlyList<TokenLogprob> Top { get; }

    /// <param name="scores">NaN-free scores in [0, count); -infinity is a token that cannot be chosen.</param>
    /// <param name="count">The row's length.</param>
    /// <param name="max">The largest score (finite or +infinity; not -infinity).</param>
    /// <param name="top">How many of the most likely tokens to report (clamped to the row).</param>
    public static LogSoftmax Of(float[] scores, int count, float max, int top)
    {
        if (float.IsPositiveInfinity(max))
        {
            // Only the +infinity scores have mass, equally (as the sampler draws them).
            int infinite = 0;
            for (int k = 0; k < count; k++)
                infinite += float.IsPositiveInfinity(scores[k]) ? 1 : 0;
            float share = -MathF.Log(infinite);
            return new LogSoftmax(double.PositiveInfinity, share, TopOf(scores, count, top, score => float.IsPositiveInfinity(score) ? share : float.NegativeInfinity));
        }

        // Each term in float (exact to 1e-7 relative), summed in double so a large vocabulary loses no precision, in
        // four interleaved sums combined in a fixed order: the same sum on every machine, without one long chain of
        // dependent additions.
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i <= count - 4; i += 4)
        {
            s0 += MathF.Exp(scores[i] - max);
            s1 += MathF.Exp(scores[i + 1] - max);
            s2 += MathF.Exp(scores[i + 2] - max);
            s3 += MathF.Exp(scores[i + 3] - max);
        }
        for (; i < count; i++)
            s0 += MathF.Exp(scores[i] - max);
        double sum = (s0 + s1) + (s2 + s3);
        double logPartition = max + Math.Log(sum);
        return new LogSoftmax(logPartition, 0f, TopOf(scores, count, top, score => (float)(score - logPartition)));
    }

    /// <summary>The log-probability of a token whose score is <paramref name="score"/>.</summary>
    public float Logprob(float score)
    {
        if (double.IsPositiveInfinity(_logPartition))
            return float.IsPositiveInfinity(score) ? _infiniteLogprob : float.NegativeInfinity;
        return (float)(score - _logPartition);
    }

    private static TokenLogprob[] TopOf(float[] scores, int count, int top, Func<float, float> logprob)
    {
        int k = Math.Min(top, count);
        if (k == 0)
            return [];
        var ids = new int[k];
        TokenRanking.SelectTopByScan(scores.AsSpan(0, count), ids);
        Array.Sort(ids, new TokenRanking.ByScoreDescending(scores));
        var result = new TokenLogprob[k];
        for (int i = 0; i < k; i++)
            result[i] = new TokenLogprob(ids[i], logprob(scores[ids[i]]));
        return result;
    }
}

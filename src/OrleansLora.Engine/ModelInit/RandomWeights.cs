using OrleansLora.Engine.Sampling;

namespace OrleansLora.Engine.ModelInit;

/// <summary>
/// Deterministic normal values for random-weight models (the sampler's xoshiro256** with
/// Box–Muller), so a seed gives the same model on every machine and .NET version.
/// </summary>
internal sealed class RandomWeights(ulong seed)
{
    private readonly Xoshiro256StarStar _rng = new(seed);
    private double? _spare;

    /// <summary>A stream for one piece of a tensor, independent of the order pieces are generated in.</summary>
    public static RandomWeights For(ulong seed, int tensorIndex, long chunkIndex) =>
        new(seed ^ (0x9E3779B97F4A7C15UL * (ulong)(tensorIndex + 1)) ^ (0xD1B54A32D192ED03UL * (ulong)(chunkIndex + 1)));

    /// <summary>Uniform in (0, 1): never 0, so its logarithm is finite.</summary>
    private double NextOpenUnit() => ((_rng.NextUInt64() >> 11) + 0.5) * (1.0 / (1UL << 53));

    public double NextNormal()
    {
        if (_spare is { } s)
        {
            _spare = null;
            return s;
        }
        double r = Math.Sqrt(-2.0 * Math.Log(NextOpenUnit()));
        double theta = 2 * Math.PI * NextOpenUnit();
        _spare = r * Math.Sin(theta);
        return r * Math.Cos(theta);
    }
}

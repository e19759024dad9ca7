namespace OrleansLora.Engine.ModelInit;

/// <summary>
/// Deterministic pseudo-random normal values (xoshiro256** seeded by SplitMix64, Box–Muller), so a
/// seed gives the same model on every machine and .NET version (System.Random's seeded sequence
/// is not a stable contract).
/// </summary>
public struct RandomWeights
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spare;

    public RandomWeights(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
        _spare = null;
    }

    /// <summary>A stream for one piece of a tensor, independent of the order pieces are generated in.</summary>
    public static RandomWeights For(ulong seed, int tensorIndex, long chunkIndex) =>
        new(seed ^ (0x9E3779B97F4A7C15UL * (ulong)(tensorIndex + 1)) ^ (0xD1B54A32D192ED03UL * (ulong)(chunkIndex + 1)));

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in (0, 1).</summary>
    public double NextDouble() => ((NextUInt64() >> 11) + 0.5) * (1.0 / (1UL << 53));

    public double NextNormal()
    {
        if (_spare is { } s)
        {
            _spare = null;
            return s;
        }
        double r = Math.Sqrt(-2.0 * Math.Log(NextDouble()));
        double theta = 2 * Math.PI * NextDouble();
        _spare = r * Math.Sin(theta);
        return r * Math.Cos(theta);
    }
}

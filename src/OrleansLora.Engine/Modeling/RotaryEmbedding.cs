using OrleansLora.Engine.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// Rotary position embedding in transformers' rotate_half convention, with cos/sin tables computed
/// once for every position up to the context length (never per call).
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    private readonly Tensor _cos; // [maxPositions, headDim]
    private readonly Tensor _sin; // [maxPositions, headDim]

    public RotaryEmbedding(ModelConfig config, int maxPositions, ScalarType dtype)
    {
        int dim = config.HeadDim;
        double[] invFreq = InverseFrequencies(config);
        int half = dim / 2;
        var cos = new float[maxPositions * dim];
        var sin = new float[maxPositions * dim];
        for (int p = 0; p < maxPositions; p++)
        {
            for (int i = 0; i < half; i++)
            {
                double angle = p * invFreq[i];
                float c = (float)Math.Cos(angle), s = (float)Math.Sin(angle);
                cos[p * dim + i] = cos[p * dim + i + half] = c;
                sin[p * dim + i] = sin[p * dim + i + half] = s;
            }
        }
        using var cos32 = tensor(cos, [maxPositions, dim]);
        using var sin32 = tensor(sin, [maxPositions, dim]);
        _cos = cos32.to(dtype).DetachFromDisposeScope();
        _sin = sin32.to(dtype).DetachFromDisposeScope();
        MaxPositions = maxPositions;
    }

    public int MaxPositions { get; }

    /// <summary>cos and sin of every position, [maxPositions, headDim] in the model's dtype: the fused RoPE reads rows of them by position.</summary>
    internal (Tensor Cos, Tensor Sin) Tables => (_cos, _sin);

    /// <summary>Per-pair inverse frequencies, with linear or llama3 rope_scaling applied.</summary>
    public static double[] InverseFrequencies(ModelConfig config)
    {
        int dim = config.HeadDim;
        var inv = new double[dim / 2];
        for (int i = 0; i < inv.Length; i++)
            inv[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / dim);
        var scaling = config.RopeScaling;
        if (scaling is null)
            return inv;
        switch (scaling.Kind)
        {
            case "linear":
                for (int i = 0; i < inv.Length; i++)
                    inv[i] /= scaling.Factor;
                break;
            case "llama3":
                double oldContext = scaling.OriginalMaxPositionEmbeddings;
                double lowWavelen = oldContext / scaling.LowFreqFactor;
                double highWavelen = oldContext / scaling.HighFreqFactor;
                for (int i = 0; i < inv.Length; i++)
                {
                    double wavelen = 2 * Math.PI / inv[i];
                    if (wavelen > lowWavelen)
                    {
                        inv[i] /= scaling.Factor;
                    }
                    else if (wavelen >= highWavelen)
                    {
                        double smooth = (oldContext / wavelen - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
                        inv[i] = (1 - smooth) * inv[i] / scaling.Factor + smooth * inv[i];
                    }
                }
                break;
        }
        return inv;
    }

    /// <summary>Gathers the tables for the given positions: two tensors [tokens, 1, headDim].</summary>
    public (Tensor Cos, Tensor Sin) ForPositions(Tensor positions) =>
        (_cos.index_select(0, positions).unsqueeze(1), _sin.index_select(0, positions).unsqueeze(1));

    /// <summary>x: [tokens, heads, headDim]; cos/sin from <see cref="ForPositions"/>.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.size(-1) / 2;
        using var x1 = x.narrow(-1, 0, half);
        using var x2 = x.narrow(-1, half, half);
        using var neg = x2.neg();
        using var rotated = cat([neg, x1], -1);
        using var a = x * cos;
        using var b = rotated * sin;
        return a + b;
    }

    public void Dispose()
    {
        _cos.Dispose();
        _sin.Dispose();
    }
}

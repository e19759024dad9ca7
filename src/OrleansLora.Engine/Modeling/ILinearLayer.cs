using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>y = x · Wᵀ for one of the base model's projections, however W is stored.</summary>
public interface ILinearLayer : IDisposable
{
    long InFeatures { get; }
    long OutFeatures { get; }

    /// <summary>Bytes the weights occupy (what a decode step reads).</summary>
    long WeightBytes { get; }

    /// <summary>x: [tokens, in] → [tokens, out], in x's dtype.</summary>
    Tensor Forward(Tensor x);

    /// <summary>
    /// y = x · Wᵀ written into <paramref name="y"/> [tokens, out] (float32, contiguous rows), from float32 x [tokens, in]
    /// with contiguous rows: the decode step's buffers, no tensor allocated where the kernel is native.
    /// </summary>
    void ForwardInto(Tensor x, Tensor y);
}

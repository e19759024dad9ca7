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
}

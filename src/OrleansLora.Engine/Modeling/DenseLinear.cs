using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// y = x · Wᵀ for a checkpoint weight W [out, in]. The weight is kept transposed ([in, out],
/// contiguous) because libtorch's CPU GEMM is markedly faster for x · Wt than for linear(x, W) at
/// decode shapes (measured 20–40% at M = 1–32, N = 50304, K = 1024; docs/BENCHMARKS.md).
/// Quantized and adapter-aware variants replace this type later.
/// </summary>
public sealed class DenseLinear : ILinearLayer
{
    private readonly Tensor _transposed; // [in, out]

    /// <summary>Takes ownership of <paramref name="weight"/> [out, in].</summary>
    public DenseLinear(Tensor weight)
    {
        // Dispose the view too: an undisposed view would keep the [out, in] storage alive until a
        // finalizer runs, doubling a 7B model's memory during load.
        using (weight)
        using (var view = weight.t())
            _transposed = view.contiguous().DetachFromDisposeScope();
        OutFeatures = _transposed.shape[1];
        InFeatures = _transposed.shape[0];
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }
    public long WeightBytes => _transposed.NumberOfElements * _transposed.ElementSize;

    /// <summary>The weight as [in, out]; column j is output feature j.</summary>
    public Tensor Transposed => _transposed;

    /// <summary>x: [tokens, in] → [tokens, out].</summary>
    public Tensor Forward(Tensor x) => matmul(x, _transposed);

    public void Dispose() => _transposed.Dispose();
}

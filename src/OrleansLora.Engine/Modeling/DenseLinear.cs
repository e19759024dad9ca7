using OrleansLora.Engine.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// y = x · Wᵀ for a dense checkpoint weight W [out, in]. float32 runs on the native GEMM
/// (olora_gemm_f32, W kept as [out, in]): libtorch's CPU GEMM is 3–17x slower at decode shapes
/// (M = 8–128) on these machines (docs/BENCHMARKS.md). Other dtypes run on libtorch with W kept
/// transposed ([in, out]), its faster layout for x · Wt.
/// </summary>
public sealed unsafe class DenseLinear : ILinearLayer
{
    private readonly Tensor _weight; // float32: [out, in]; otherwise [in, out]
    private readonly bool _native;

    /// <summary>Takes ownership of <paramref name="weight"/> [out, in].</summary>
    public DenseLinear(Tensor weight)
    {
        OutFeatures = weight.shape[0];
        InFeatures = weight.shape[1];
        _native = weight.dtype == ScalarType.Float32 && weight.device_type == DeviceType.CPU;
        if (_native)
        {
            _weight = weight.is_contiguous() ? weight : ContiguousCopy(weight);
            return;
        }
        // Dispose the view too: an undisposed view would keep the [out, in] storage alive until a
        // finalizer runs, doubling a 7B model's memory during load.
        using (weight)
        using (var view = weight.t())
            _weight = view.contiguous().DetachFromDisposeScope();
    }

    private static Tensor ContiguousCopy(Tensor weight)
    {
        using (weight)
            return weight.contiguous().DetachFromDisposeScope();
    }

    public long InFeatures { get; }
    public long OutFeatures { get; }
    public long WeightBytes => _weight.NumberOfElements * _weight.ElementSize;

    /// <summary>Rows of W as embeddings ([ids] → [ids, in]): a tied head doubles as the embedding table.</summary>
    public Tensor EmbeddingRows(Tensor ids) =>
        _native ? _weight.index_select(0, ids) : _weight.index_select(1, ids).t().contiguous();

    /// <summary>x: [tokens, in] → [tokens, out].</summary>
    public Tensor Forward(Tensor x)
    {
        if (!_native)
            return matmul(x, _weight);
        using var scope = NewDisposeScope();
        var input = x.dtype == ScalarType.Float32 && x.is_contiguous() ? x : x.to(ScalarType.Float32).contiguous();
        TensorChecks.Require(input, nameof(x), ScalarType.Float32, -1, InFeatures);
        int m = TensorChecks.ToInt32(input.size(0), "tokens");
        var y = empty(m, OutFeatures, dtype: ScalarType.Float32);
        TensorChecks.Check(NativeMethods.GemmF32(
            (float*)TensorMemory.DataPointer(input), InFeatures,
            (float*)TensorMemory.DataPointer(_weight), InFeatures,
            (float*)TensorMemory.DataPointer(y), OutFeatures,
            m, (int)OutFeatures, (int)InFeatures, accumulate: 0), "olora_gemm_f32");
        GC.KeepAlive(input);
        GC.KeepAlive(this);
        return (x.dtype == ScalarType.Float32 ? y : y.to(x.dtype)).MoveToOuterDisposeScope();
    }

    public void Dispose() => _weight.Dispose();
}

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
public sealed unsafe class DenseLinear : ILinearLayer, INativeLinear
{
    private readonly Tensor _weight; // float32: [out, in]; otherwise [in, out]
    private readonly bool _native;
    private readonly float* _weightData; // float32 W's data (native path only)
    private bool _disposed;

    /// <summary>Takes ownership of <paramref name="weight"/> [out, in].</summary>
    public DenseLinear(Tensor weight)
    {
        OutFeatures = weight.shape[0];
        InFeatures = weight.shape[1];
        _native = weight.dtype == ScalarType.Float32 && weight.device_type == DeviceType.CPU;
        if (_native)
        {
            _weight = weight.is_contiguous() ? weight : ContiguousCopy(weight);
            // Read once: the layer owns W, which never moves, and a decode step runs dozens of these GEMMs.
            _weightData = (float*)TensorMemory.DataPointer(_weight);
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

    /// <summary>W is float32 [out, in] on the CPU and runs on the native GEMM (and its rows can be copied as embeddings).</summary>
    internal bool IsNative => _native;

    bool INativeLinear.TryGetNativeRef(out NativeLinearRef reference)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        reference = _native
            ? new NativeLinearRef
            {
                Kind = NativeLinearRef.KindFloat32, OutFeatures = TensorChecks.ToInt32(OutFeatures, "out_features"),
                InFeatures = TensorChecks.ToInt32(InFeatures, "in_features"), Weight = _weightData,
            }
            : default;
        return _native;
    }
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
        var xp = (float*)TensorChecks.RequireData(input, nameof(x), ScalarType.Float32, -1, InFeatures);
        var y = empty(input.size(0), OutFeatures, dtype: ScalarType.Float32);
        Gemm(xp, (float*)TensorMemory.DataPointer(y), input.size(0));
        GC.KeepAlive(input);
        GC.KeepAlive(y);
        return (x.dtype == ScalarType.Float32 ? y : y.to(x.dtype)).MoveToOuterDisposeScope();
    }

    public void ForwardInto(Tensor x, Tensor y)
    {
        if (!_native)
        {
            using var result = Forward(x);
            y.copy_(result);
            return;
        }
        var xp = (float*)TensorChecks.RequireData(x, nameof(x), ScalarType.Float32, -1, InFeatures);
        long rows = x.size(0);
        var yp = (float*)TensorChecks.RequireData(y, nameof(y), ScalarType.Float32, rows, OutFeatures);
        Gemm(xp, yp, rows);
        GC.KeepAlive(x);
        GC.KeepAlive(y);
    }

    private void Gemm(float* x, float* y, long rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        TensorChecks.Check(NativeMethods.GemmF32(x, InFeatures, _weightData, InFeatures, y, OutFeatures,
            TensorChecks.ToInt32(rows, "tokens"), (int)OutFeatures, (int)InFeatures, accumulate: 0), "olora_gemm_f32");
        GC.KeepAlive(this);
    }

    /// <summary>Copies rows of a float32 W into <paramref name="output"/> [ids, in] (the tied embedding lookup of a decode step).</summary>
    internal void EmbeddingRowsInto(ReadOnlySpan<long> ids, Tensor output) => EmbeddingRowsInto(_weight, ids, output);

    /// <summary>
    /// Copies rows <paramref name="ids"/> of a float32 table [vocab, width] into <paramref name="output"/> [ids, width],
    /// refusing an id outside the table before anything is read.
    /// </summary>
    internal static void EmbeddingRowsInto(Tensor table, ReadOnlySpan<long> ids, Tensor output)
    {
        TensorChecks.Require(table, nameof(table), ScalarType.Float32, -1, -1);
        long vocab = table.size(0), width = table.size(1);
        TensorChecks.Require(output, nameof(output), ScalarType.Float32, ids.Length, width);
        foreach (long id in ids)
        {
            if ((ulong)id >= (ulong)vocab)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the vocabulary [0, {vocab}).");
        }
        float* src = (float*)TensorMemory.DataPointer(table), dst = (float*)TensorMemory.DataPointer(output);
        long bytes = width * sizeof(float);
        for (int i = 0; i < ids.Length; i++)
            Buffer.MemoryCopy(src + ids[i] * width, dst + i * width, bytes, bytes);
        GC.KeepAlive(table);
        GC.KeepAlive(output);
    }

    public void Dispose()
    {
        _disposed = true;
        _weight.Dispose();
    }
}

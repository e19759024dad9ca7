using OrleansLora.Engine.Native;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Quantization;

/// <summary>Shared argument handling of the quantized kernels: float32 activations in and out.</summary>
internal static unsafe class QuantizedForward
{
    public delegate int Kernel(float* x, long xRowStride, float* y, long yRowStride, int m);

    /// <summary>x: [tokens, in] in any float dtype → [tokens, out] in x's dtype.</summary>
    public static Tensor Run(Tensor x, long inFeatures, long outFeatures, Kernel kernel, string name)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 2 || x.size(1) != inFeatures)
            throw new ArgumentException($"x has shape [{string.Join(", ", x.shape)}]; expected [tokens, {inFeatures}].", nameof(x));
        using var scope = NewDisposeScope();
        var x32 = x.dtype == ScalarType.Float32 && x.is_contiguous() ? x : x.to(ScalarType.Float32).contiguous();
        var xp = (float*)TensorChecks.RequireData(x32, nameof(x), ScalarType.Float32, -1, inFeatures);
        int m = TensorChecks.ToInt32(x32.size(0), "tokens");
        var y = empty(m, outFeatures, dtype: ScalarType.Float32);
        TensorChecks.Check(kernel(xp, inFeatures, (float*)TensorMemory.DataPointer(y), outFeatures, m), name);
        GC.KeepAlive(x32);
        return (y.dtype == x.dtype ? y : y.to(x.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="ILinearLayer.ForwardInto"/>: float32 x [tokens, in] into float32 y [tokens, out], both with contiguous
    /// rows, on the kernel directly (no tensor allocated).
    /// </summary>
    public static void RunInto(Tensor x, Tensor y, long inFeatures, long outFeatures, Kernel kernel, string name)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var xp = (float*)TensorChecks.RequireData(x, nameof(x), ScalarType.Float32, -1, inFeatures);
        long rows = x.size(0);
        var yp = (float*)TensorChecks.RequireData(y, nameof(y), ScalarType.Float32, rows, outFeatures);
        TensorChecks.Check(kernel(xp, inFeatures, yp, outFeatures, TensorChecks.ToInt32(rows, "tokens")), name);
        GC.KeepAlive(x);
        GC.KeepAlive(y);
    }
}

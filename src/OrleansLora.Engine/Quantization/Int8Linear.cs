using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Native;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Quantization;

/// <summary>
/// A linear layer stored as int8, symmetric per output channel: W[n, k] = q[n, k] · scale[n].
/// Forward runs the native kernel on the int8 weights directly.
/// </summary>
public sealed unsafe class Int8Linear : ILinearLayer, INativeLinear
{
    private Int8Linear(Tensor q, Tensor scales, QuantizedCompute compute)
    {
        Compute = compute;
        OutFeatures = q.size(0);
        InFeatures = q.size(1);
        Q = q;
        Scales = scales;
        _q = (sbyte*)TensorMemory.DataPointer(q);
        _scales = (float*)TensorMemory.DataPointer(scales);
        _compute = NativeMethods.ComputeCode(compute);
        _kernel = BindKernel();
    }

    // The weights' pointers and compute code, read once: the layer owns its weights, which never move, and a decode step
    // makes dozens of calls on them.
    private readonly sbyte* _q;
    private readonly float* _scales;
    private readonly int _compute;
    private readonly QuantizedForward.Kernel _kernel;

    public Tensor Q { get; }      // int8 [out, in]
    public Tensor Scales { get; } // float32 [out]
    public long InFeatures { get; }
    public long OutFeatures { get; }
    public long WeightBytes => Q.NumberOfElements + Scales.NumberOfElements * 4;
    public QuantizedCompute Compute { get; }

    /// <summary>Quantizes a float32 weight [out, in]; the weight stays owned by the caller.</summary>
    public static Int8Linear Quantize(Tensor weight, QuantizedCompute compute = QuantizedCompute.BFloat16)
    {
        NativeMethods.ComputeCode(compute); // refuses an undefined mode before any work
        TensorChecks.Require(weight, nameof(weight), ScalarType.Float32, -1, -1);
        int n = TensorChecks.ToInt32(weight.shape[0], "out_features");
        int k = TensorChecks.ToInt32(weight.shape[1], "in_features");
        var q = empty(n, k, dtype: ScalarType.Int8).DetachFromDisposeScope();
        var scales = empty(n, dtype: ScalarType.Float32).DetachFromDisposeScope();
        try
        {
            int rc = NativeMethods.Int8Quantize((float*)TensorMemory.DataPointer(weight), n, k,
                (sbyte*)TensorMemory.DataPointer(q), (float*)TensorMemory.DataPointer(scales));
            GC.KeepAlive(weight);
            if (rc == NativeStatus.InvalidArgument)
                throw new ArgumentException("weight holds non-finite values; int8 cannot represent them.", nameof(weight));
            TensorChecks.Check(rc, "olora_int8_quantize");
            return new Int8Linear(q, scales, compute);
        }
        catch
        {
            q.Dispose();
            scales.Dispose();
            throw;
        }
    }

    /// <summary>The float32 weight [out, in] the codes stand for (tests and tools).</summary>
    public Tensor Dequantize()
    {
        var output = empty(OutFeatures, InFeatures, dtype: ScalarType.Float32);
        TensorChecks.Check(NativeMethods.Int8Dequantize((sbyte*)TensorMemory.DataPointer(Q), (float*)TensorMemory.DataPointer(Scales),
            (int)OutFeatures, (int)InFeatures, (float*)TensorMemory.DataPointer(output)), "olora_int8_dequantize");
        GC.KeepAlive(this);
        return output;
    }

    public Tensor Forward(Tensor x)
    {
        var y = QuantizedForward.Run(x, InFeatures, OutFeatures, _kernel, "olora_int8_linear_ex");
        GC.KeepAlive(this);
        return y;
    }

    public void ForwardInto(Tensor x, Tensor y)
    {
        QuantizedForward.RunInto(x, y, InFeatures, OutFeatures, _kernel, "olora_int8_linear_ex");
        GC.KeepAlive(this);
    }

    // Made once: a lambda per call would allocate a closure on every projection of every step.
    private QuantizedForward.Kernel BindKernel() => (xp, xs, yp, ys, m) =>
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return NativeMethods.Int8LinearEx(xp, xs, yp, ys, m, (int)OutFeatures, (int)InFeatures, _q, _scales, accumulate: 0, _compute);
    };

    bool INativeLinear.TryGetNativeRef(out NativeLinearRef reference)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        reference = new NativeLinearRef
        {
            Kind = NativeLinearRef.KindInt8, Compute = _compute, OutFeatures = (int)OutFeatures, InFeatures = (int)InFeatures,
            Weight = _q, Scales = _scales,
        };
        return true;
    }

    private bool _disposed;

    public void Dispose()
    {
        _disposed = true;
        Q.Dispose();
        Scales.Dispose();
    }
}

using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Native;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Quantization;

/// <summary>
/// A linear layer stored as NF4 (bitsandbytes layout: blocks of 64 consecutive elements of the
/// row-major [out, in] weight, one float32 absmax per block, two 4-bit codes per byte with the first
/// element in the high nibble). Forward runs the native fused dequantize-and-multiply kernel; W is
/// never materialised.
/// </summary>
public sealed unsafe class Nf4Linear : ILinearLayer, INativeLinear
{
    public const int BlockSize = 64;

    private Nf4Linear(Tensor codes, Tensor absmax, long outFeatures, long inFeatures, QuantizedCompute compute)
    {
        Compute = compute;
        Codes = codes;
        Absmax = absmax;
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        _codes = (byte*)TensorMemory.DataPointer(codes);
        _absmax = (float*)TensorMemory.DataPointer(absmax);
        _compute = NativeMethods.ComputeCode(compute);
        _kernel = BindKernel();
    }

    // The weights' pointers and compute code, read once: the layer owns its weights, which never move, and a decode step
    // makes dozens of calls on them.
    private readonly byte* _codes;
    private readonly float* _absmax;
    private readonly int _compute;
    private readonly QuantizedForward.Kernel _kernel;

    public Tensor Codes { get; }  // uint8 [ceil(out*in / 2)]
    public Tensor Absmax { get; } // float32 [ceil(out*in / 64)]
    public long InFeatures { get; }
    public long OutFeatures { get; }
    public long WeightBytes => Codes.NumberOfElements + Absmax.NumberOfElements * 4;
    public QuantizedCompute Compute { get; }

    /// <summary>Quantizes a float32 weight [out, in]; the weight stays owned by the caller.</summary>
    public static Nf4Linear Quantize(Tensor weight, QuantizedCompute compute = QuantizedCompute.BFloat16)
    {
        NativeMethods.ComputeCode(compute); // refuses an undefined mode before any work
        TensorChecks.Require(weight, nameof(weight), ScalarType.Float32, -1, -1);
        long n = weight.shape[0], k = weight.shape[1], numel = n * k;
        TensorChecks.ToInt32(n, "out_features");
        TensorChecks.ToInt32(k, "in_features");
        var codes = empty((numel + 1) / 2, dtype: ScalarType.Byte).DetachFromDisposeScope();
        var absmax = empty((numel + BlockSize - 1) / BlockSize, dtype: ScalarType.Float32).DetachFromDisposeScope();
        try
        {
            int rc = NativeMethods.Nf4Quantize((float*)TensorMemory.DataPointer(weight), numel,
                (byte*)TensorMemory.DataPointer(codes), (float*)TensorMemory.DataPointer(absmax));
            GC.KeepAlive(weight);
            if (rc == NativeStatus.InvalidArgument)
                throw new ArgumentException("weight holds non-finite values; NF4 cannot represent them.", nameof(weight));
            TensorChecks.Check(rc, "olora_nf4_quantize");
            return new Nf4Linear(codes, absmax, n, k, compute);
        }
        catch
        {
            codes.Dispose();
            absmax.Dispose();
            throw;
        }
    }

    /// <summary>The float32 weight [out, in] the codes stand for (tests and tools).</summary>
    public Tensor Dequantize()
    {
        var output = empty(OutFeatures, InFeatures, dtype: ScalarType.Float32);
        TensorChecks.Check(NativeMethods.Nf4Dequantize((byte*)TensorMemory.DataPointer(Codes), (float*)TensorMemory.DataPointer(Absmax),
            OutFeatures * InFeatures, (float*)TensorMemory.DataPointer(output)), "olora_nf4_dequantize");
        GC.KeepAlive(this);
        return output;
    }

    public Tensor Forward(Tensor x)
    {
        var y = QuantizedForward.Run(x, InFeatures, OutFeatures, _kernel, "olora_nf4_linear_ex");
        GC.KeepAlive(this);
        return y;
    }

    public void ForwardInto(Tensor x, Tensor y)
    {
        QuantizedForward.RunInto(x, y, InFeatures, OutFeatures, _kernel, "olora_nf4_linear_ex");
        GC.KeepAlive(this);
    }

    // Made once: a lambda per call would allocate a closure on every projection of every step.
    private QuantizedForward.Kernel BindKernel() => (xp, xs, yp, ys, m) =>
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return NativeMethods.Nf4LinearEx(xp, xs, yp, ys, m, (int)OutFeatures, (int)InFeatures, _codes, _absmax, accumulate: 0, _compute);
    };

    bool INativeLinear.TryGetNativeRef(out NativeLinearRef reference)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        reference = new NativeLinearRef
        {
            Kind = NativeLinearRef.KindNf4, Compute = _compute, OutFeatures = (int)OutFeatures, InFeatures = (int)InFeatures,
            Weight = _codes, Scales = _absmax,
        };
        return true;
    }

    private bool _disposed;

    public void Dispose()
    {
        _disposed = true;
        Codes.Dispose();
        Absmax.Dispose();
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>RMSNorm as transformers computes it: the statistics in float32, the weight applied in the input dtype.</summary>
public sealed class RmsNorm(Tensor weight, double eps) : IDisposable
{
    // Held, not converted per call (HeldScalars says why).
    private readonly Scalar _eps = eps.ToScalar();
    private readonly bool _fused = weight.dtype == ScalarType.Float32 && weight.device_type == DeviceType.CPU && weight.is_contiguous();

    public Tensor Weight { get; } = weight; // [hidden]

    public Tensor Forward(Tensor x)
    {
        if (_fused && FusedOps.Usable(x))
            return FusedOps.RmsNorm(x, Weight, Epsilon);
        using var scope = NewDisposeScope();
        var x32 = x.to(ScalarType.Float32);
        var variance = x32.pow(HeldScalars.Two).mean([-1L], keepdim: true);
        var normed = (x32 * variance.add_(_eps, HeldScalars.One).rsqrt_()).to(x.dtype);
        return (Weight * normed).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// residual += x in place (the residual stream after a sublayer), then returns this norm of it: one pass over memory
    /// on the fused kernel for float32 rows.
    /// </summary>
    public Tensor AddForward(Tensor x, Tensor residual)
    {
        if (_fused && FusedOps.Usable(x) && FusedOps.Usable(residual))
            return FusedOps.AddRmsNorm(x, residual, Weight, Epsilon);
        residual.add_(x, HeldScalars.One);
        return Forward(residual);
    }

    /// <summary>Whether the fused float32 kernels serve this norm (the decode step's buffers need them).</summary>
    internal bool Fused => _fused;

    /// <summary>The epsilon the fused kernels add (float32, as they take it).</summary>
    internal float Epsilon => (float)eps;

    /// <summary>This norm of x's rows into <paramref name="output"/>, on the fused kernel.</summary>
    internal void ForwardInto(Tensor x, Tensor output) => FusedOps.RmsNormInto(x, Weight, Epsilon, output);

    /// <summary>residual += x in place, then this norm of it into <paramref name="output"/>, on the fused kernel.</summary>
    internal void AddForwardInto(Tensor x, Tensor residual, Tensor output) => FusedOps.AddRmsNormInto(x, residual, Weight, Epsilon, output);

    public void Dispose()
    {
        Weight.Dispose();
        _eps.Dispose();
    }
}

using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// Views of a <see cref="DecodeWorkspace"/> for one row count, float32 [rows, width] each. <see cref="Residual"/> is the
/// residual stream, which <see cref="MlpOutput"/> is added to by the next norm; the column views are the stacked
/// projections' parts, where LoRA adds its updates.
/// </summary>
internal sealed record DecodeBuffers(
    int Rows,
    Tensor Residual,
    Tensor Normed,
    Tensor Qkv,
    Tensor Q,
    Tensor K,
    Tensor V,
    Tensor Attended,
    Tensor Projected,
    Tensor GateUp,
    Tensor Gate,
    Tensor Up,
    Tensor Activation,
    Tensor MlpOutput) : IDisposable
{
    public void Dispose()
    {
        foreach (var t in new[] { Residual, Normed, Qkv, Q, K, V, Attended, Projected, GateUp, Gate, Up, Activation, MlpOutput })
            t.Dispose();
    }
}

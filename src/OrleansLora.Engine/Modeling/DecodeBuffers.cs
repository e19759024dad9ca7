using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// Views of a <see cref="DecodeWorkspace"/> for one row count, float32 [rows, width] each. <see cref="Residual"/> is the
/// residual stream, which <see cref="MlpOutput"/> is added to by the next norm; the column views are the stacked
/// projections' parts, where LoRA adds its updates. A class, not a record: value equality over tensors means nothing.
/// </summary>
internal sealed class DecodeBuffers(Tensor residual, Tensor normed, Tensor qkv, Tensor q, Tensor k, Tensor v, Tensor attended,
    Tensor projected, Tensor gateUp, Tensor gate, Tensor up, Tensor activation, Tensor mlpOutput) : IDisposable
{
    public Tensor Residual { get; } = residual;
    public Tensor Normed { get; } = normed;
    public Tensor Qkv { get; } = qkv;
    public Tensor Q { get; } = q;
    public Tensor K { get; } = k;
    public Tensor V { get; } = v;
    public Tensor Attended { get; } = attended;
    public Tensor Projected { get; } = projected;
    public Tensor GateUp { get; } = gateUp;
    public Tensor Gate { get; } = gate;
    public Tensor Up { get; } = up;
    public Tensor Activation { get; } = activation;
    public Tensor MlpOutput { get; } = mlpOutput;

    public void Dispose()
    {
        foreach (var t in new[] { Residual, Normed, Qkv, Q, K, V, Attended, Projected, GateUp, Gate, Up, Activation, MlpOutput })
            t.Dispose();
    }
}

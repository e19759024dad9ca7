using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace OrleansLora.Engine.Modeling;

/// <summary>Llama's MLP: down(silu(gate(x)) * up(x)), with gate and up stacked so one matmul computes both.</summary>
public sealed class SwiGluMlp(ILinearLayer gateUp, ILinearLayer down) : IDisposable
{
    public ILinearLayer GateUp { get; } = gateUp; // hidden → 2*intermediate: gate_proj outputs, then up_proj outputs
    public ILinearLayer Down { get; } = down;     // intermediate → hidden

    /// <summary>x: [tokens, hidden] → [tokens, hidden].</summary>
    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var gu = GateUp.Forward(x);                 // [tokens, 2*intermediate]
        long ff = GateUp.OutFeatures / 2;
        var g = silu(gu.narrow(1, 0, ff));
        return Down.Forward(g.mul_(gu.narrow(1, ff, ff))).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        GateUp.Dispose();
        Down.Dispose();
    }
}

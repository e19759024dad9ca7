using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace OrleansLora.Engine.Modeling;

/// <summary>Llama's MLP: down(silu(gate(x)) * up(x)), with gate and up stacked so one matmul computes both.</summary>
public sealed class SwiGluMlp(Tensor gateUp, Tensor down) : IDisposable
{
    public Tensor GateUp { get; } = gateUp; // [2*intermediate, hidden]: gate_proj rows, then up_proj rows
    public Tensor Down { get; } = down;     // [hidden, intermediate]

    /// <summary>x: [tokens, hidden] → [tokens, hidden].</summary>
    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var gu = linear(x, GateUp);                 // [tokens, 2*intermediate]
        long ff = GateUp.shape[0] / 2;
        var g = silu(gu.narrow(1, 0, ff));
        return linear(g.mul_(gu.narrow(1, ff, ff)), Down).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        GateUp.Dispose();
        Down.Dispose();
    }
}

using OrleansLora.Engine.Adapters;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace OrleansLora.Engine.Modeling;

/// <summary>Llama's MLP: down(silu(gate(x)) * up(x)), with gate and up stacked so one matmul computes both.</summary>
public sealed class SwiGluMlp(ILinearLayer gateUp, ILinearLayer down) : IDisposable
{
    public ILinearLayer GateUp { get; } = gateUp; // hidden → 2*intermediate: gate_proj outputs, then up_proj outputs
    public ILinearLayer Down { get; } = down;     // intermediate → hidden

    /// <summary>x: [tokens, hidden] → [tokens, hidden]; <paramref name="lora"/> adds the adapters' updates.</summary>
    public Tensor Forward(Tensor x, int layer = 0, LoraContext? lora = null)
    {
        using var scope = NewDisposeScope();
        var gu = GateUp.Forward(x);                 // [tokens, 2*intermediate]
        long ff = GateUp.OutFeatures / 2;
        if (lora is not null)
        {
            lora.Apply(layer, LoraTargetModules.GateProj, x, gu.narrow(1, 0, ff));
            lora.Apply(layer, LoraTargetModules.UpProj, x, gu.narrow(1, ff, ff));
        }
        var h = FusedOps.Usable(gu)
            ? FusedOps.SwiGlu(gu)                                    // [tokens, intermediate]
            : silu(gu.narrow(1, 0, ff)).mul_(gu.narrow(1, ff, ff));
        var y = Down.Forward(h);
        lora?.Apply(layer, LoraTargetModules.DownProj, h, y);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>A decode step on <paramref name="b"/>'s buffers: <see cref="DecodeBuffers.Normed"/> → <see cref="DecodeBuffers.MlpOutput"/>, no tensor allocated.</summary>
    internal void ForwardDecode(DecodeBuffers b, int layer, LoraContext? lora)
    {
        GateUp.ForwardInto(b.Normed, b.GateUp);
        if (lora is not null)
        {
            lora.Apply(layer, LoraTargetModules.GateProj, b.Normed, b.Gate);
            lora.Apply(layer, LoraTargetModules.UpProj, b.Normed, b.Up);
        }
        FusedOps.SwiGluInto(b.GateUp, b.Activation);
        Down.ForwardInto(b.Activation, b.MlpOutput);
        lora?.Apply(layer, LoraTargetModules.DownProj, b.Activation, b.MlpOutput);
    }

    public void Dispose()
    {
        GateUp.Dispose();
        Down.Dispose();
    }
}

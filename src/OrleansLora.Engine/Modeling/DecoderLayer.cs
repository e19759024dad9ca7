using OrleansLora.Engine.Caching;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>Pre-norm transformer block: x + attn(norm(x)), then + mlp(norm(x)).</summary>
public sealed class DecoderLayer(int index, RmsNorm inputNorm, Attention attention, RmsNorm postAttentionNorm, SwiGluMlp mlp) : IDisposable
{
    public int Index { get; } = index;
    public RmsNorm InputNorm { get; } = inputNorm;
    public Attention Attention { get; } = attention;
    public RmsNorm PostAttentionNorm { get; } = postAttentionNorm;
    public SwiGluMlp Mlp { get; } = mlp;

    /// <summary>x: [tokens, hidden] → [tokens, hidden].</summary>
    public Tensor Forward(Tensor x, ForwardBatch batch, IKvCache cache, Tensor cos, Tensor sin, LoraContext? lora = null)
    {
        using var scope = NewDisposeScope();
        // The attention output becomes the residual stream in place (h = x + attn), normed in the same pass; the MLP's
        // output is then added to it in place: no temporaries for either sum.
        var h = Attention.Forward(InputNorm.Forward(x), batch, cache, Index, cos, sin, lora);
        var normed = PostAttentionNorm.AddForward(x, h);
        return h.add_(Mlp.Forward(normed, Index, lora), HeldScalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A decode step on <paramref name="b"/>'s buffers. The residual stream stays in <see cref="DecodeBuffers.Residual"/>
    /// with the MLP's output still to be added (<see cref="DecodeBuffers.MlpOutput"/>): the next layer's input norm, or the
    /// final one, adds it in the same pass. <paramref name="pending"/>: whether the previous layer left one.
    /// </summary>
    internal void ForwardDecode(DecodeBuffers b, bool pending, ForwardBatch batch, PagedKvCache cache, Tensor cosTable, Tensor sinTable, LoraContext? lora)
    {
        if (pending)
            InputNorm.AddForwardInto(b.MlpOutput, b.Residual, b.Normed);
        else
            InputNorm.ForwardInto(b.Residual, b.Normed);
        Attention.ForwardDecode(b, batch, cache, Index, cosTable, sinTable, lora);
        PostAttentionNorm.AddForwardInto(b.Projected, b.Residual, b.Normed);
        Mlp.ForwardDecode(b, Index, lora);
    }

    public void Dispose()
    {
        InputNorm.Dispose();
        Attention.Dispose();
        PostAttentionNorm.Dispose();
        Mlp.Dispose();
    }
}

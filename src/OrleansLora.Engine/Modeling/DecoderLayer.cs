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

    public void Dispose()
    {
        InputNorm.Dispose();
        Attention.Dispose();
        PostAttentionNorm.Dispose();
        Mlp.Dispose();
    }
}

using TorchSharp;

namespace OrleansLora.Engine.Adapters;

/// <summary>
/// One LoRA pair for one projection of one layer, float32 on the CPU: <see cref="A"/> is
/// <c>[r, in]</c> and <see cref="B"/> is <c>[out, r]</c> with the adapter's scaling already
/// multiplied in, so the delta is <c>B · A · x</c>. Owned (and disposed) by <see cref="PeftAdapter"/>.
/// </summary>
public sealed record LoraModuleWeights(int Layer, string Module, torch.Tensor A, torch.Tensor B)
{
    public int Rank => (int)A.shape[0];
    public int InFeatures => (int)A.shape[1];
    public int OutFeatures => (int)B.shape[0];
}

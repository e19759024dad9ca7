using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>The adapter slots of one forward: which rows get which slot's LoRA update.</summary>
public sealed class LoraContext(ILoraApplier table, ForwardBatch batch)
{
    /// <summary>y += LoRA(x) for one projection; x and y may be column slices.</summary>
    public void Apply(int layer, string module, Tensor x, Tensor y) =>
        table.Apply(layer, module, x, y, batch.SegmentStarts, batch.SegmentAdapterSlots);
}

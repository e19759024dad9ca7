using static TorchSharp.torch;

namespace OrleansLora.Engine.Modeling;

/// <summary>
/// The LoRA boundary of the forward pass, for one projection of one layer:
/// <c>for each segment i with slot s_i ≥ 0: y[starts[i]:starts[i+1]] += x[starts[i]:starts[i+1]] · A[s_i]ᵀ · B[s_i]ᵀ</c>
/// (scaling folded into B). <see cref="Adapters.AdapterSlotTable"/> is the implementation (SGMV);
/// benchmarks plug in baselines here.
/// </summary>
public interface ILoraApplier
{
    /// <param name="x">[tokens, in], possibly a column slice.</param>
    /// <param name="y">[tokens, out], updated in place, possibly a column slice.</param>
    /// <param name="segmentStarts">Row where each segment starts, then the total.</param>
    /// <param name="segmentSlots">Each segment's adapter slot; -1 leaves its rows alone.</param>
    void Apply(int layer, string module, Tensor x, Tensor y, int[] segmentStarts, int[] segmentSlots);
}

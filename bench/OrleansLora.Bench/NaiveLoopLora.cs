using TorchSharp;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Modeling;
using static TorchSharp.torch;

namespace OrleansLora.Bench;

/// <summary>
/// Issue 4's naive baseline, kept in the bench: LoRA applied by a loop over the adapters present
/// in the batch, each gathering its rows and running two TorchSharp matmuls
/// (<c>y[rows] += x[rows] · Aᵀ · Bᵀ</c>), as multi-LoRA servers did before SGMV kernels.
/// </summary>
internal sealed class NaiveLoopLora(IReadOnlyList<PeftAdapter> adapters) : ILoraApplier
{
    // Held for the process: a literal 1 would become a temporary Scalar that a collection may free while libtorch
    // reads it (the engine's HeldScalars explains the failure this caused there).
    private static readonly Scalar One = 1.ToScalar();

    public void Apply(int layer, string module, Tensor x, Tensor y, int[] segmentStarts, int[] segmentSlots)
    {
        using var scope = NewDisposeScope();
        foreach (var group in Enumerable.Range(0, segmentSlots.Length).Where(i => segmentSlots[i] >= 0).GroupBy(i => segmentSlots[i]))
        {
            if (adapters[group.Key].Get(layer, module) is not { } w)
                continue;
            long[] rows = group.SelectMany(i => Enumerable.Range(segmentStarts[i], segmentStarts[i + 1] - segmentStarts[i]).Select(r => (long)r)).ToArray();
            var index = tensor(rows, dtype: ScalarType.Int64);                       // [rows]
            var xs = x.index_select(0, index).to(w.A.dtype);                          // [rows, in]
            var delta = matmul(matmul(xs, w.A.t()), w.B.t()).to(y.dtype);             // [rows, out]
            y.index_add_(0, index, delta, One);
        }
    }
}

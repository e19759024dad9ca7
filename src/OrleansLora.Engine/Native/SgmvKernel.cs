using static TorchSharp.torch;

namespace OrleansLora.Engine.Native;

/// <summary>
/// Segmented multi-LoRA (SGMV) over a whole batch in one native call:
/// for each segment i with slot s ≥ 0, <c>y[rows_i] += scale_s · x[rows_i] · A_sᵀ · B_s</c>,
/// where rows_i = [segStarts[i], segStarts[i+1]) and slot -1 leaves its rows untouched.
/// A table [slots, maxRank, in] holds lora_A rows; B table [slots, maxRank, out] holds lora_Bᵀ
/// rows; rows beyond a slot's rank are padding and never read. x and y share a dtype (float32 or
/// bfloat16); the tables may have the other one (float32 activations with bfloat16 tables read
/// half the bytes), accumulation is float32.
/// </summary>
public static unsafe class SgmvKernel
{
    /// <summary>Data pointer of a tensor whose rows are contiguous but may be spaced (a view's own offset included).</summary>
    private static nint RowsPointer(Tensor t) => NativeMethods.TensorData(t.Handle);

    /// <remarks>
    /// x and y need contiguous rows, not contiguous matrices: a column slice such as
    /// <c>qkv.narrow(1, 0, qWidth)</c> is accepted and written in place.
    /// </remarks>
    public static void Apply(Tensor x, Tensor y, int[] segStarts, int[] segSlots, Tensor aTable, Tensor bTable, ReadOnlySpan<int> slotRanks, float[] slotScales)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(aTable);
        var dtype = x.dtype;
        var weightDtype = aTable.dtype;
        int code = DtypeCode(dtype, nameof(x));
        int weightCode = DtypeCode(weightDtype, nameof(aTable));
        // x and y may be column slices of wider matrices (the q/k/v parts of a stacked projection).
        long xStride = TensorChecks.RequireRows(x, nameof(x), dtype, -1, -1);
        long rows = x.size(0), inWidth = x.size(1);
        TensorChecks.Require(aTable, nameof(aTable), weightDtype, -1, -1, inWidth);
        long slots = aTable.size(0), maxRank = aTable.size(1);
        TensorChecks.Require(bTable, nameof(bTable), weightDtype, slots, maxRank, -1);
        long yStride = TensorChecks.RequireRows(y, nameof(y), dtype, rows, bTable.size(2));
        if (segStarts.Length != segSlots.Length + 1)
            throw new ArgumentException($"segStarts needs {segSlots.Length + 1} entries for {segSlots.Length} segments, got {segStarts.Length}.", nameof(segStarts));
        if (slotRanks.Length != slots || slotScales.Length != slots)
            throw new ArgumentException($"slotRanks and slotScales need one entry per slot ({slots}).", nameof(slotRanks));
        for (int i = 0; i < segSlots.Length; i++)
        {
            if (segStarts[i] < 0 || segStarts[i + 1] < segStarts[i] || segStarts[i + 1] > rows)
                throw new ArgumentException($"segment {i} spans rows [{segStarts[i]}, {segStarts[i + 1]}), outside [0, {rows}) or reversed.", nameof(segStarts));
            int s = segSlots[i];
            if (s < -1 || s >= slots)
                throw new ArgumentException($"segment {i} names slot {s}; slots are -1 (none) or [0, {slots}).", nameof(segSlots));
            if (s >= 0 && (slotRanks[s] < 1 || slotRanks[s] > maxRank))
                throw new ArgumentException($"slot {s} has rank {slotRanks[s]}; ranks are [1, {maxRank}].", nameof(slotRanks));
        }
        int inFeatures = TensorChecks.ToInt32(inWidth, "in_features");
        int outFeatures = TensorChecks.ToInt32(y.size(1), "out_features");
        fixed (int* starts = segStarts)
        fixed (int* segSlotPtr = segSlots)
        fixed (int* ranks = slotRanks)
        fixed (float* scales = slotScales)
        {
            int rc = NativeMethods.SgmvMixed(code, weightCode,
                (void*)RowsPointer(x), xStride, (void*)RowsPointer(y), yStride,
                starts, segSlotPtr, segSlots.Length,
                (void*)TensorMemory.DataPointer(aTable), (void*)TensorMemory.DataPointer(bTable), (int)slots, (int)maxRank,
                inFeatures, outFeatures, ranks, scales, scratch: null, scratchElems: 0);
            TensorChecks.Check(rc, "olora_sgmv_mixed");
        }
        GC.KeepAlive(x);
        GC.KeepAlive(y);
        GC.KeepAlive(aTable);
        GC.KeepAlive(bTable);
    }

    private static int DtypeCode(ScalarType dtype, string name) => dtype switch
    {
        ScalarType.Float32 => NativeMethods.DtypeF32,
        ScalarType.BFloat16 => NativeMethods.DtypeBf16,
        _ => throw new ArgumentException($"{name} has dtype {dtype}; SGMV supports float32 and bfloat16.", name),
    };
}

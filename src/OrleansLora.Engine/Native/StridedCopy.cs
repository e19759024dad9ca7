using static TorchSharp.torch;

namespace OrleansLora.Engine.Native;

/// <summary>
/// <c>destination = scale · source</c> for 2-D float32/bfloat16 tensors of any strides (a
/// transposed view included), converting dtype, on the calling thread only (olora_convert_2d).
/// libtorch's <c>copy_</c> splits such copies over its OpenMP pool; an adapter load runs beside
/// the decode steps, and on busy cores that pool made a ~6 ms load take ~100 ms.
/// </summary>
public static unsafe class StridedCopy
{
    /// <param name="source">[rows, cols], any strides.</param>
    /// <param name="destination">[rows, cols] with contiguous rows (a row slice of a larger table is fine).</param>
    /// <param name="scale">Multiplied in float32 before any rounding to bfloat16.</param>
    public static void Copy(Tensor source, Tensor destination, float scale = 1f)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        int sourceCode = DtypeCode(source, nameof(source));
        int destinationCode = DtypeCode(destination, nameof(destination));
        if (source.dim() != 2 || destination.dim() != 2 || source.shape[0] != destination.shape[0] || source.shape[1] != destination.shape[1])
            throw new ArgumentException($"source [{string.Join(", ", source.shape)}] and destination [{string.Join(", ", destination.shape)}] must be 2-D of one shape.", nameof(source));
        long destinationStride = TensorChecks.RequireRows(destination, nameof(destination), destination.dtype, -1, -1);
        int rows = TensorChecks.ToInt32(source.shape[0], "rows"), cols = TensorChecks.ToInt32(source.shape[1], "cols");
        int rc = NativeMethods.Convert2d(sourceCode, (void*)NativeMethods.TensorData(source.Handle), source.stride(0), source.stride(1),
            destinationCode, (void*)NativeMethods.TensorData(destination.Handle), destinationStride, rows, cols, scale);
        TensorChecks.Check(rc, "olora_convert_2d");
        GC.KeepAlive(source);
        GC.KeepAlive(destination);
    }

    /// <summary>
    /// Copies a prepared factor <c>[layers, r, cols]</c> into slot <paramref name="slot"/> of a
    /// table <c>[layers, slots, maxRank, cols]</c> (both contiguous, one dtype), for the layers
    /// <paramref name="copyLayer"/> selects: one native call per layer on raw offsets, no tensor
    /// views (the engine thread does this between steps, 2 × 7 × layers times per adapter).
    /// </summary>
    public static void CopyIntoSlot(Tensor source, Tensor table, int slot, Func<int, bool> copyLayer)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(copyLayer);
        int code = DtypeCode(source, nameof(source));
        TensorChecks.Require(source, nameof(source), source.dtype, -1, -1, -1);
        long layers = source.size(0), rows = source.size(1), cols = source.size(2);
        TensorChecks.Require(table, nameof(table), source.dtype, layers, -1, -1, cols);
        long slots = table.size(1), maxRank = table.size(2);
        if (slot < 0 || slot >= slots || rows > maxRank)
            throw new ArgumentException($"slot {slot} with {rows} rows does not fit a table of {slots} slots × {maxRank} rows.", nameof(slot));
        long elementSize = source.ElementSize;
        byte* from = (byte*)TensorMemory.DataPointer(source);
        byte* to = (byte*)TensorMemory.DataPointer(table);
        int r = TensorChecks.ToInt32(rows, "rows"), c = TensorChecks.ToInt32(cols, "cols");
        for (int l = 0; l < layers; l++)
        {
            if (!copyLayer(l))
                continue;
            byte* src = from + l * rows * cols * elementSize;
            byte* dst = to + ((l * slots + slot) * maxRank) * cols * elementSize;
            TensorChecks.Check(NativeMethods.Convert2d(code, src, cols, 1, code, dst, cols, r, c, 1f), "olora_convert_2d");
        }
        GC.KeepAlive(source);
        GC.KeepAlive(table);
    }

    private static int DtypeCode(Tensor t, string name)
    {
        if (t.device_type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException($"{name} is on {t.device}; the CPU kernels need a CPU tensor.", name);
        return t.dtype switch
        {
            ScalarType.Float32 => NativeMethods.DtypeF32,
            ScalarType.BFloat16 => NativeMethods.DtypeBf16,
            _ => throw new ArgumentException($"{name} has dtype {t.dtype}; the copy supports float32 and bfloat16.", name),
        };
    }
}

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

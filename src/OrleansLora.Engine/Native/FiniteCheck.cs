using OrleansLora.Engine.Checkpoints;

namespace OrleansLora.Engine.Native;

/// <summary>
/// Finds the first value of a float32 / bfloat16 / float16 buffer that is NaN, infinite or larger in
/// magnitude than a bound (olora_check_finite: one pass of integer compares on the bit patterns, at
/// the speed of reading the memory), on the calling thread.
/// </summary>
public static unsafe class FiniteCheck
{
    /// <summary>
    /// The index of the first of <paramref name="count"/> values at <paramref name="data"/> that is
    /// not finite or whose magnitude is above <paramref name="maxAbs"/> (a value equal to it passes;
    /// <see cref="float.PositiveInfinity"/> refuses only non-finite values); -1 when there is none.
    /// </summary>
    public static long FirstRefused(void* data, long count, SafetensorsDtype dtype, float maxAbs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (float.IsNaN(maxAbs) || maxAbs < 0)
            throw new ArgumentOutOfRangeException(nameof(maxAbs), maxAbs, "the bound must be a number >= 0 (or +Infinity).");
        int code = dtype switch
        {
            SafetensorsDtype.F32 => NativeMethods.DtypeF32,
            SafetensorsDtype.BF16 => NativeMethods.DtypeBf16,
            SafetensorsDtype.F16 => NativeMethods.DtypeF16,
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype."),
        };
        long at = NativeMethods.CheckFinite(code, data, count, maxAbs);
        TensorChecks.Check(at < 0 ? (int)at : 0, "olora_check_finite");
        return at == count ? -1 : at;
    }

    /// <summary>As <see cref="FirstRefused(void*, long, SafetensorsDtype, float)"/> over raw little-endian bytes.</summary>
    public static long FirstRefused(ReadOnlySpan<byte> bytes, SafetensorsDtype dtype, float maxAbs)
    {
        fixed (byte* p = bytes)
            return FirstRefused(p, bytes.Length / dtype.ElementSize(), dtype, maxAbs);
    }

    /// <summary>The value at <paramref name="index"/> of a buffer of <paramref name="dtype"/>, as a float (for messages).</summary>
    public static float ValueAt(void* data, long index, SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.F32 => ((float*)data)[index],
        SafetensorsDtype.BF16 => BitConverter.Int32BitsToSingle(((ushort*)data)[index] << 16),
        _ => (float)BitConverter.UInt16BitsToHalf(((ushort*)data)[index]),
    };
}

namespace OrleansLora.Engine.Native;

/// <summary>What the native kernels run on in this process, for logs and benchmark reports.</summary>
public static class NativeKernels
{
    /// <summary>
    /// The kernels' SIMD path, chosen from CPUID at load (the environment variable OLORA_ISA may lower
    /// it): scalar, avx2, avx512, or amx — AVX-512 plus AMX-BF16 tiles for the quantized linears from
    /// 6 (NF4) or 9 (int8) rows of x under <see cref="Quantization.QuantizedCompute.BFloat16"/>, which
    /// round x and the dequantized weights to bfloat16 (OLORA_ISA=avx512 keeps those in float32; the
    /// NF4 bfloat16 GEMV of 1-8 rows (see <see cref="Bf16Gemv"/>) and the int8 dot products of
    /// <see cref="Quantization.QuantizedCompute.Int8"/> need only avx512).
    /// </summary>
    public static string Isa => NativeMethods.GetIsa() switch
    {
        1 => "scalar",
        2 => "avx2",
        3 => "avx512",
        4 => "amx",
        var other => $"unknown ({other})",
    };

    /// <summary>How the AVX-512 NF4 GEMV under bfloat16 compute forms its products for 1-8 rows of x ("dot":
    /// vdpbf16ps, or "fma": float32 FMAs on the rounded operands; olora_set_bf16_gemv), for benchmark records.</summary>
    public static string Bf16Gemv => NativeMethods.GetBf16Gemv() switch
    {
        1 => "dot",
        2 => "fma",
        var other => $"unknown ({other})",
    };
}

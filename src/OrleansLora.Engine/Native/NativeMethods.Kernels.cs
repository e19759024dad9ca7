using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Native;

/// <summary>Compute kernels of native-kernels/include/olora_kernels.h. Callers validate arguments first.</summary>
internal static unsafe partial class NativeMethods
{
    public const int DtypeF32 = 0;
    public const int DtypeBf16 = 1;
    public const int DtypeF16 = 2;

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_check_finite")]
    public static partial long CheckFinite(int dtype, void* data, long n, float maxAbs);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_get_isa")]
    public static partial int GetIsa();

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_get_bf16_gemv")]
    public static partial int GetBf16Gemv();

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_gemm_f32")]
    public static partial int GemmF32(float* x, long xRowStride, float* w, long wRowStride, float* y, long yRowStride, int m, int n, int k, int accumulate);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_nf4_linear_ex")]
    public static partial int Nf4LinearEx(float* x, long xRowStride, float* y, long yRowStride, int m, int n, int k, byte* codes, float* absmax, int accumulate, int compute);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_nf4_quantize")]
    public static partial int Nf4Quantize(float* w, long numel, byte* codes, float* absmax);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_nf4_dequantize")]
    public static partial int Nf4Dequantize(byte* codes, float* absmax, long numel, float* output);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_int8_linear_ex")]
    public static partial int Int8LinearEx(float* x, long xRowStride, float* y, long yRowStride, int m, int n, int k, sbyte* q, float* scales, int accumulate, int compute);

    public const int ComputeF32 = 0;
    public const int ComputeBf16 = 1;
    public const int ComputeInt8 = 2;

    /// <summary>olora_*_linear_ex compute mode of <paramref name="compute"/>; an undefined value is refused.</summary>
    public static int ComputeCode(Quantization.QuantizedCompute compute) => compute switch
    {
        Quantization.QuantizedCompute.BFloat16 => ComputeBf16,
        Quantization.QuantizedCompute.Float32 => ComputeF32,
        Quantization.QuantizedCompute.Int8 => ComputeInt8,
        _ => throw new ArgumentOutOfRangeException(nameof(compute), compute, "unknown quantized compute mode."),
    };

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_int8_quantize")]
    public static partial int Int8Quantize(float* w, int n, int k, sbyte* q, float* scales);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_int8_dequantize")]
    public static partial int Int8Dequantize(sbyte* q, float* scales, int n, int k, float* output);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_sgmv_mixed")]
    public static partial int SgmvMixed(int dtype, int weightDtype, void* x, long xRowStride, void* y, long yRowStride,
        int* segStarts, int* segSlots, int numSegments, void* aTable, void* bTable, int numSlots, int maxRank,
        int inFeatures, int outFeatures, int* slotRanks, float* slotScales, float* scratch, long scratchElems);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_convert_2d")]
    public static partial int Convert2d(int srcDtype, void* src, long srcRowStride, long srcColStride,
        int dstDtype, void* dst, long dstRowStride, int rows, int cols, float scale);
}

using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Native;

/// <summary>
/// Paged KV cache and fused decode-step kernels of native-kernels/include/olora_kernels.h (layout:
/// pools [blocks, kvHeads, blockSize, headDim], block tables int32, slot mapping int64). Callers
/// validate arguments first; the kernels check them again and return a negative code.
/// </summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(KernelsLibrary, EntryPoint = "olora_kv_append")]
    public static partial int KvAppend(int cacheDtype, float* keys, long keyStride, float* values, long valueStride,
        long* slotMapping, int numTokens, void* kPool, void* vPool, long numBlocks, int blockSize, int kvHeads, int headDim);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_kv_copy_blocks")]
    public static partial int KvCopyBlocks(int cacheDtype, void* kPool, void* vPool, long numBlocks, int blockSize,
        int kvHeads, int headDim, int* blockMapping, int numPairs);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_paged_attention_decode")]
    public static partial int PagedAttentionDecode(int cacheDtype, float* q, long qStride, float* output, long outputStride,
        void* kPool, void* vPool, long numBlocks, int blockSize, int* blockTables, long blockTableStride, int maxBlocksPerSeq,
        int* contextLens, int numSeqs, int numHeads, int kvHeads, int headDim, int slidingWindow);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_paged_attention_prefill")]
    public static partial int PagedAttentionPrefill(int cacheDtype, float* q, long qStride, float* output, long outputStride,
        void* kPool, void* vPool, long numBlocks, int blockSize, int* blockTables, long blockTableStride, int maxBlocksPerSeq,
        int* queryStartLoc, int* contextLens, int numSeqs, int numHeads, int kvHeads, int headDim, int slidingWindow);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_decode_layers")]
    public static partial int DecodeLayers(NativeDecodeLayer* layers, int layerStructSize, int numLayers, NativeDecodeStep* step, int stepStructSize);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_rmsnorm")]
    public static partial int RmsNorm(float* x, long xStride, float* weight, float* output, long outputStride,
        int rows, int hidden, float eps);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_add_rmsnorm")]
    public static partial int AddRmsNorm(float* x, long xStride, float* residual, long residualStride, float* weight,
        float* output, long outputStride, int rows, int hidden, float eps);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_rope")]
    public static partial int Rope(float* q, long qStride, int numHeads, float* k, long kStride, int kvHeads, int headDim,
        int* positions, int numTokens, float* cosTable, float* sinTable, int maxPositions);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_swiglu")]
    public static partial int SwiGlu(float* gateUp, long gateUpStride, float* output, long outputStride, int rows, int intermediate);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_argmax")]
    public static partial int Argmax(float* logits, long rowStride, int rows, int vocab, int* outputIds);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_topk")]
    public static partial int TopK(float* logits, long rowStride, int rows, int vocab, int k, int* outputIds, float* outputValues);
}

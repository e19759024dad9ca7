using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Cuda;

/// <summary>
/// C ABI of the CUDA runner library (native-kernels/cuda/olora_cuda_runner.h, libolora_cuda.so). Loaded only
/// through <see cref="CudaLibrary"/>, which finds the file and turns a missing library into a reason rather
/// than a crash. Every function returns a status (<see cref="CudaStatus"/>); the message of the last failure
/// on the calling thread comes from <see cref="LastError"/>.
/// </summary>
internal static unsafe partial class CudaNative
{
    public const string Library = "olora_cuda";

    /// <summary>ABI 2: the whole-model functions (olora_cuda_model_*) and the host emulation context.</summary>
    public const int ExpectedAbiVersion = 2;

    /// <summary>OLORA_CUDA_HOST_DEVICE: a context whose "device" is host memory and whose forward runs the CPU kernels.</summary>
    public const int HostDevice = -1;

    /// <summary>OLORA_CUDA_FORMAT_*: how a linear layer's weight is stored.</summary>
    public static class Format
    {
        public const int BFloat16 = 0; // data bf16 [n, k]
        public const int Nf4 = 1;      // data codes ceil(n*k/2) bytes, aux absmax float32 [ceil(n*k/64)]
        public const int Int8 = 2;     // data int8 [n, k], aux scales float32 [n]
    }

    /// <summary>OLORA_CUDA_W_*: the tensors of <see cref="ModelSetWeight"/> (layer -1 for the first three).</summary>
    public static class Weight
    {
        public const int Embed = 0;
        public const int FinalNorm = 1;
        public const int LmHead = 2;
        public const int InputNorm = 3;
        public const int PostNorm = 4;
        public const int Qkv = 5;     // q_proj, k_proj, v_proj rows stacked
        public const int O = 6;
        public const int GateUp = 7;  // gate_proj rows, then up_proj
        public const int Down = 8;
    }

    /// <summary>OLORA_CUDA_LORA_*: LoRA modules in <see cref="Adapters.LoraTargetModules.All"/> order (q, k, v, o, gate, up, down).</summary>
    public static class Lora
    {
        public const int Q = 0;
        public const int K = 1;
        public const int V = 2;
        public const int O = 3;
        public const int Gate = 4;
        public const int Up = 5;
        public const int Down = 6;
        public const int Modules = 7;
    }

    [LibraryImport(Library, EntryPoint = "olora_cuda_abi_version")]
    public static partial int AbiVersion();

    [LibraryImport(Library, EntryPoint = "olora_cuda_last_error")]
    private static partial int LastError(byte* buffer, int length);

    [LibraryImport(Library, EntryPoint = "olora_cuda_device_count")]
    public static partial int DeviceCount(out int count);

    [LibraryImport(Library, EntryPoint = "olora_cuda_device_info")]
    public static partial int DeviceInfo(int device, byte* name, int nameLength, out int smMajor, out int smMinor,
        out long totalBytes, out long freeBytes);

    [LibraryImport(Library, EntryPoint = "olora_cuda_context_create")]
    public static partial int ContextCreate(int device, out nint context);

    [LibraryImport(Library, EntryPoint = "olora_cuda_context_destroy")]
    public static partial int ContextDestroy(nint context);

    [LibraryImport(Library, EntryPoint = "olora_cuda_context_memory")]
    public static partial int ContextMemory(nint context, out long contextBytes, out long freeBytes, out long totalBytes);

    [LibraryImport(Library, EntryPoint = "olora_cuda_model_create")]
    public static partial int ModelCreate(nint context, CudaModelConfig* config, out nint model);

    [LibraryImport(Library, EntryPoint = "olora_cuda_model_destroy")]
    public static partial int ModelDestroy(nint model);

    [LibraryImport(Library, EntryPoint = "olora_cuda_model_set_weight")]
    public static partial int ModelSetWeight(nint model, int kind, int layer, void* data, long dataBytes, void* aux, long auxBytes);

    [LibraryImport(Library, EntryPoint = "olora_cuda_model_set_adapter")]
    public static partial int ModelSetAdapter(nint model, int slot, int layer, int module, int rank, ushort* a, ushort* bt);

    [LibraryImport(Library, EntryPoint = "olora_cuda_model_set_adapter_scale")]
    public static partial int ModelSetAdapterScale(nint model, int slot, float scale);

    [LibraryImport(Library, EntryPoint = "olora_cuda_model_clear_adapter")]
    public static partial int ModelClearAdapter(nint model, int slot);

    [LibraryImport(Library, EntryPoint = "olora_cuda_model_forward")]
    public static partial int ModelForward(nint model, int numTokens, int* tokenIds, int numSeqs, int* seqStartPositions,
        int* seqTokenCounts, int* seqAdapterSlots, int* blockTables, int blockTableStride, int numLogitRows, int* logitRows, float* logits);

    [LibraryImport(Library, EntryPoint = "olora_cuda_model_copy_blocks")]
    public static partial int ModelCopyBlocks(nint model, int* pairs, int numPairs);

    [LibraryImport(Library, EntryPoint = "olora_cuda_model_memory")]
    public static partial int ModelMemory(nint model, out long weightBytes, out long kvBytes, out long adapterBytes, out long activationBytes);

    [LibraryImport(Library, EntryPoint = "olora_cuda_model_kv_block_bytes")]
    public static partial long ModelKvBlockBytes(int numLayers, int kvHeads, int headDim, int blockSize);

    /// <summary>The calling thread's last error message from the library ("" if none).</summary>
    public static string LastError()
    {
        byte* buffer = stackalloc byte[512];
        return LastError(buffer, 512) == 0 ? Marshal.PtrToStringUTF8((nint)buffer) ?? "" : "";
    }

    /// <summary>A NUL-terminated UTF-8 name from a fixed buffer.</summary>
    public static string ReadName(byte* buffer) => Marshal.PtrToStringUTF8((nint)buffer) ?? "";
}

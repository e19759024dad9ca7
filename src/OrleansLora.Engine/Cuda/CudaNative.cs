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
    public const int ExpectedAbiVersion = 1;

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

    /// <summary>The calling thread's last error message from the library ("" if none).</summary>
    public static string LastError()
    {
        byte* buffer = stackalloc byte[512];
        return LastError(buffer, 512) == 0 ? Marshal.PtrToStringUTF8((nint)buffer) ?? "" : "";
    }

    /// <summary>A NUL-terminated UTF-8 name from a fixed buffer.</summary>
    public static string ReadName(byte* buffer) => Marshal.PtrToStringUTF8((nint)buffer) ?? "";
}

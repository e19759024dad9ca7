using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Native;

/// <summary>C ABI of native-kernels (include/olora_kernels.h) and the libc loader calls the engine needs.</summary>
internal static unsafe partial class NativeMethods
{
    public const string KernelsLibrary = "olora_kernels";
    public const int ExpectedAbiVersion = 1;

    public const int RtldNow = 0x2;
    public const int RtldGlobal = 0x100;
    public const int RtldNoload = 0x4;

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_abi_version")]
    public static partial int AbiVersion();

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_elf_weaken_version_need", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ElfWeakenVersionNeed(string path, string versionName, int dryRun);

    [LibraryImport(KernelsLibrary, EntryPoint = "olora_ios_base_library_init_available")]
    public static partial int IosBaseLibraryInitAvailable();

    /// <summary>Raw data pointer of a TorchSharp tensor (<c>Tensor.Handle</c>); exported by libLibTorchSharp.</summary>
    [LibraryImport("LibTorchSharp", EntryPoint = "THSTensor_data")]
    public static partial nint TensorData(nint tensorHandle);

    /// <summary>libc's setenv: unlike Environment.SetEnvironmentVariable it changes what native libraries read.</summary>
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint DlOpen(string? file, int mode);

    [LibraryImport("libc", EntryPoint = "dlvsym", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint DlVSym(nint handle, string symbol, string version);

    [LibraryImport("libc", EntryPoint = "dlerror")]
    public static partial nint DlError();

    public static string LastDlError() => Marshal.PtrToStringUTF8(DlError()) ?? "unknown dlopen error";
}

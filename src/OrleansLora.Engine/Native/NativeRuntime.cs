using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Native;

/// <summary>
/// Makes TorchSharp loadable before its first call, and loads the native kernels.
/// TorchSharp 0.107's libLibTorchSharp.so needs <c>std::ios_base_library_init()@GLIBCXX_3.4.32</c>;
/// where libstdc++ lacks that version (Debian 12 stops at 3.4.30) this loads libolora_kernels.so
/// RTLD_GLOBAL (it defines the function) and makes sure the need is weak in the output's copy of
/// libLibTorchSharp.so (the build already does this; this covers outputs made without it).
/// Idempotent and thread-safe; a no-op where libstdc++ already has 3.4.32.
/// See docs/TORCHSHARP-ON-DEBIAN.md.
/// </summary>
public static class NativeRuntime
{
    public const string GlibcxxVersion = "GLIBCXX_3.4.32";
    private const string IosBaseLibraryInitSymbol = "_ZSt21ios_base_library_initv";

    private static readonly Lock Gate = new();
    private static bool _initialized;

    /// <summary>What <see cref="EnsureInitialized"/> found and did; for diagnostics and tests.</summary>
    public static NativeRuntimeReport? Report { get; private set; }

#pragma warning disable CA2255 // The engine must prepare the process before any TorchSharp type is touched.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void InitializeOnLoad()
    {
        try
        {
            EnsureInitialized();
        }
        catch
        {
            // Rethrown with a clear message by the next explicit EnsureInitialized call; a module
            // initializer that throws would make every type of the assembly unusable.
        }
    }

    public static void EnsureInitialized()
    {
        lock (Gate)
        {
            if (_initialized)
                return;
            Report = Initialize();
            _initialized = true;
        }
    }

    private static NativeRuntimeReport Initialize()
    {
        if (!OperatingSystem.IsLinux())
            return new NativeRuntimeReport(LibstdcxxHasVersion: true, ShimLoaded: false, LibTorchSharpPath: null, PatchResult: "not Linux");

        // libtorch's OpenMP threads spin for a while after each parallel region by default. In a
        // silo the .NET threads that stream tokens need those cores between the engine's ops: with
        // spinning the cluster bench measured 1.26x the engine's CPU per token through Orleans, with
        // passive waits 1.02x, and the engine alone no slower. Read once when libgomp loads, so it is
        // set here, before libtorch; a value the user set wins.
        NativeMethods.SetEnv("OMP_WAIT_POLICY", "PASSIVE", overwrite: 0);
        bool hasVersion = LibstdcxxHasIosBaseLibraryInit();
        string kernels = FindKernelsLibrary();
        // RTLD_GLOBAL so the loader can bind libLibTorchSharp's (weakened) reference to our definition.
        if (NativeMethods.DlOpen(kernels, NativeMethods.RtldNow | NativeMethods.RtldGlobal) == 0)
            throw new DllNotFoundException($"could not load {kernels}: {NativeMethods.LastDlError()}");
        int abi = NativeMethods.AbiVersion();
        if (abi != NativeMethods.ExpectedAbiVersion)
            throw new InvalidOperationException($"{kernels} has ABI version {abi}; this engine needs {NativeMethods.ExpectedAbiVersion}. Rebuild native-kernels.");
        if (hasVersion)
            return new NativeRuntimeReport(true, false, null, "libstdc++ has " + GlibcxxVersion);

        string? torchSharp = FindLibTorchSharp();
        string patch = "libLibTorchSharp.so not found next to the application";
        if (torchSharp is not null)
        {
            int rc = NativeMethods.ElfWeakenVersionNeed(torchSharp, GlibcxxVersion, dryRun: 0);
            patch = rc switch
            {
                0 => "no " + GlibcxxVersion + " need",
                1 => "already weak",
                2 => "made weak at start-up",
                _ => throw new InvalidOperationException(
                    $"{torchSharp} needs {GlibcxxVersion}, which this system's libstdc++ lacks, and it could not be patched (code {rc}: {NativeStatus.Describe(rc)}). " +
                    "Build with 'dotnet build' (it patches the output) or make the file writable once."),
            };
        }
        NativeMethods.IosBaseLibraryInitAvailable();
        return new NativeRuntimeReport(false, true, torchSharp, patch);
    }

    private static bool LibstdcxxHasIosBaseLibraryInit()
    {
        nint handle = NativeMethods.DlOpen("libstdc++.so.6", NativeMethods.RtldNow);
        return handle != 0 && NativeMethods.DlVSym(handle, IosBaseLibraryInitSymbol, GlibcxxVersion) != 0;
    }

    private static string FindKernelsLibrary()
    {
        string name = "lib" + NativeMethods.KernelsLibrary + ".so";
        foreach (string dir in CandidateDirectories())
        {
            string path = Path.Combine(dir, name);
            if (File.Exists(path))
                return path;
        }
        throw new DllNotFoundException($"{name} was not found next to the application ({AppContext.BaseDirectory}); 'dotnet build' builds it from native-kernels/ (needs cmake and g++).");
    }

    private static string? FindLibTorchSharp()
    {
        string rid = RuntimeInformation.RuntimeIdentifier.StartsWith("linux-arm64", StringComparison.Ordinal) ? "linux-arm64" : "linux-x64";
        foreach (string dir in CandidateDirectories())
        {
            foreach (string candidate in new[] { Path.Combine(dir, "runtimes", rid, "native", "libLibTorchSharp.so"), Path.Combine(dir, "libLibTorchSharp.so") })
            {
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        return null;
    }

    private static IEnumerable<string> CandidateDirectories()
    {
        yield return AppContext.BaseDirectory;
        string? assemblyDir = Path.GetDirectoryName(typeof(NativeRuntime).Assembly.Location);
        if (!string.IsNullOrEmpty(assemblyDir) && assemblyDir != AppContext.BaseDirectory.TrimEnd('/'))
            yield return assemblyDir;
    }
}

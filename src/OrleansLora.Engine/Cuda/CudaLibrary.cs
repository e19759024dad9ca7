using System.Reflection;
using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Cuda;

/// <summary>
/// Finds and loads libolora_cuda.so for <see cref="CudaNative"/>: the path in <c>OLORA_CUDA_LIBRARY</c> when set
/// (tests and custom builds), else the file next to the application (the CUDA container image ships it there),
/// else the loader's search path. A library that is missing or will not load is a <see cref="CudaAvailability"/>
/// reason, never a <see cref="DllNotFoundException"/> out of a grain.
/// </summary>
public static class CudaLibrary
{
    public const string PathVariable = "OLORA_CUDA_LIBRARY";
    public const string FileName = "libolora_cuda.so";

    private static readonly Lock Gate = new();
    private static nint _handle;
    private static string? _loadError;
    private static bool _attempted;

    /// <summary>
    /// The file to load: <paramref name="overridePath"/> (the variable's value) when set, else
    /// <paramref name="baseDirectory"/>/libolora_cuda.so when it exists, else the bare name for the loader.
    /// </summary>
    public static string Locate(string? overridePath, string baseDirectory)
    {
        if (!string.IsNullOrWhiteSpace(overridePath))
            return overridePath;
        string local = Path.Combine(baseDirectory, FileName);
        return File.Exists(local) ? local : FileName;
    }

    /// <summary>Loads the library once per process; false with the reason when it cannot be loaded.</summary>
    public static bool TryLoad(out string? error)
    {
        lock (Gate)
        {
            if (!_attempted)
            {
                _attempted = true;
                string path = Locate(Environment.GetEnvironmentVariable(PathVariable), AppContext.BaseDirectory);
                if (path.Contains('/') && !File.Exists(path))
                    _loadError = $"the CUDA runner library {path} does not exist{(path == Environment.GetEnvironmentVariable(PathVariable) ? $" ({PathVariable})" : "")}";
                else if (!NativeLibrary.TryLoad(path, out _handle))
                    _loadError = $"the CUDA runner library {FileName} was not found or did not load (build native-kernels with nvcc, or set {PathVariable})";
                else
                    NativeLibrary.SetDllImportResolver(typeof(CudaLibrary).Assembly, Resolve);
            }
            error = _loadError;
            return _handle != 0;
        }
    }

    /// <summary>The CUDA devices this process can use, or why there are none.</summary>
    public static unsafe CudaAvailability Probe()
    {
        if (!TryLoad(out string? error))
            return CudaAvailability.None(error!);
        int abi = CudaNative.AbiVersion();
        if (abi != CudaNative.ExpectedAbiVersion)
            return CudaAvailability.None($"{FileName} has ABI version {abi}, this build expects {CudaNative.ExpectedAbiVersion}");
        if (CudaNative.DeviceCount(out int count) != 0)
            return CudaAvailability.None($"no usable CUDA device: {CudaNative.LastError()}");
        var devices = new List<CudaDeviceInfo>(count);
        byte* name = stackalloc byte[256];
        for (int i = 0; i < count; i++)
        {
            int rc = CudaNative.DeviceInfo(i, name, 256, out int major, out int minor, out long total, out long free);
            if (rc != 0)
                return CudaAvailability.None($"cuda:{i}: {CudaNative.LastError()}");
            devices.Add(new CudaDeviceInfo(i, CudaNative.ReadName(name), $"{major}.{minor}", total, free));
        }
        return new CudaAvailability(devices, null);
    }

    // Only the CUDA runner's name is redirected; every other import of the engine loads as before.
    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == CudaNative.Library ? _handle : 0;
}

using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Cuda;

/// <summary>
/// One CUDA runner context (stream, cuBLAS handle, tracked device memory) on one device: the handle the CUDA
/// model runner owns. Creating one where there is no GPU throws a <see cref="CudaException"/> with status
/// <see cref="CudaStatus.NoDevice"/> and the CUDA runtime's reason. <see cref="HostDevice"/> makes a host emulation
/// context instead: "device" memory is host memory and the model's forward runs the same orchestration on the CPU
/// kernels, so the whole-model path runs (and is tested) without a GPU or a driver.
/// </summary>
public sealed class CudaContext : SafeHandle
{
    private CudaContext() : base(0, ownsHandle: true) { }

    /// <summary>OLORA_CUDA_HOST_DEVICE: the device index of a host emulation context.</summary>
    public const int HostDevice = CudaNative.HostDevice;

    /// <summary>The CUDA device ordinal, or <see cref="HostDevice"/>.</summary>
    public int Device { get; private init; }

    /// <summary>Whether this is a host emulation context (<see cref="HostDevice"/>).</summary>
    public bool IsHostEmulation => Device == HostDevice;

    /// <summary><c>cuda:N</c>, or "CUDA host emulation" for <see cref="HostDevice"/>: how messages name a context.</summary>
    public static string NameOf(int device) => device == HostDevice ? "CUDA host emulation" : $"cuda:{device}";

    public override bool IsInvalid => handle == 0;

    /// <summary>
    /// Creates a context on device <c>cuda:<paramref name="device"/></c>, or a host emulation context for
    /// <see cref="HostDevice"/>. The library must have the ABI this binding was written for.
    /// </summary>
    public static CudaContext Create(int device)
    {
        if (device != HostDevice)
            ArgumentOutOfRangeException.ThrowIfNegative(device);
        string name = NameOf(device);
        if (!CudaLibrary.TryLoad(out string? error))
            throw new CudaException(CudaStatus.NoDevice, $"{name}: {error}");
        int abi = CudaNative.AbiVersion();
        if (abi != CudaNative.ExpectedAbiVersion)
            throw new CudaException(CudaStatus.NoDevice, $"{name}: {CudaLibrary.FileName} has ABI version {abi}, this build expects {CudaNative.ExpectedAbiVersion}");
        var context = new CudaContext { Device = device };
        int rc = CudaNative.ContextCreate(device, out nint h);
        CudaException.ThrowIfFailed(rc, $"creating a CUDA context on {name}");
        context.SetHandle(h);
        return context;
    }

    /// <summary>Device memory this context holds, and the device's free and total memory now.</summary>
    public (long ContextBytes, long FreeBytes, long TotalBytes) Memory()
    {
        bool added = false;
        DangerousAddRef(ref added);
        try
        {
            CudaException.ThrowIfFailed(CudaNative.ContextMemory(handle, out long held, out long free, out long total), "reading CUDA memory");
            return (held, free, total);
        }
        finally
        {
            if (added)
                DangerousRelease();
        }
    }

    // Never throws: the library's destroy only synchronizes and frees.
    protected override bool ReleaseHandle() => CudaNative.ContextDestroy(handle) == 0;
}

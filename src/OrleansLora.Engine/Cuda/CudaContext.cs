using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Cuda;

/// <summary>
/// One CUDA runner context (stream, cuBLAS handle, tracked device memory) on one device: the handle the CUDA
/// model runner owns. Creating one where there is no GPU throws a <see cref="CudaException"/> with status
/// <see cref="CudaStatus.NoDevice"/> and the CUDA runtime's reason.
/// </summary>
public sealed class CudaContext : SafeHandle
{
    private CudaContext() : base(0, ownsHandle: true) { }

    public int Device { get; private init; }

    public override bool IsInvalid => handle == 0;

    /// <summary>Creates a context on device <c>cuda:<paramref name="device"/></c>.</summary>
    public static CudaContext Create(int device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        if (!CudaLibrary.TryLoad(out string? error))
            throw new CudaException(CudaStatus.NoDevice, $"cuda:{device}: {error}");
        var context = new CudaContext { Device = device };
        int rc = CudaNative.ContextCreate(device, out nint h);
        CudaException.ThrowIfFailed(rc, $"creating a CUDA context on cuda:{device}");
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

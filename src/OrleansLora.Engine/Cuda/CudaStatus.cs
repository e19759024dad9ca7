namespace OrleansLora.Engine.Cuda;

/// <summary>Status codes of the CUDA runner's C ABI (OLORA_CUDA_* in olora_cuda_runner.h).</summary>
public enum CudaStatus
{
    Ok = 0,
    /// <summary>An argument the library refused before anything ran.</summary>
    Argument = -1,
    /// <summary>No CUDA device, no driver, or a driver older than the library's runtime.</summary>
    NoDevice = -2,
    /// <summary>Any other CUDA runtime or cuBLAS error.</summary>
    Cuda = -3,
    /// <summary>A device allocation failed.</summary>
    Memory = -4,
}

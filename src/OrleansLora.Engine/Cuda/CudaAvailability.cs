namespace OrleansLora.Engine.Cuda;

/// <summary>
/// What <see cref="CudaLibrary.Probe"/> found: the CUDA devices, or why there are none (library not found, an
/// ABI the binding does not know, no driver, no device). Never an exception: callers decide whether "none" is
/// an error (<c>cuda:N</c>) or a fallback (<c>auto</c>).
/// </summary>
public sealed record CudaAvailability(IReadOnlyList<CudaDeviceInfo> Devices, string? Reason)
{
    public bool Available => Devices.Count > 0;

    public static CudaAvailability None(string reason) => new([], reason);
}

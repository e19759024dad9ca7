namespace OrleansLora.Engine.Cuda;

/// <summary>One CUDA device as the runner library sees it.</summary>
/// <param name="Index">CUDA device ordinal (<c>cuda:N</c>).</param>
/// <param name="Name">The device's name, e.g. "NVIDIA H100 80GB HBM3".</param>
/// <param name="ComputeCapability">"9.0" for sm_90.</param>
public sealed record CudaDeviceInfo(int Index, string Name, string ComputeCapability, long TotalBytes, long FreeBytes);

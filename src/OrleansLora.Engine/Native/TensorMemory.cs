using TorchSharp;

namespace OrleansLora.Engine.Native;

/// <summary>Access to a CPU tensor's memory for file I/O and native kernels.</summary>
public static class TensorMemory
{
    /// <summary>
    /// The data pointer of a contiguous CPU tensor. Callers keep the tensor alive
    /// (<see cref="GC.KeepAlive"/>) for as long as they use the pointer.
    /// </summary>
    public static nint DataPointer(torch.Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.device_type != DeviceType.CPU)
            throw new ArgumentException($"tensor is on {tensor.device}, expected the CPU.", nameof(tensor));
        if (!tensor.is_contiguous())
            throw new ArgumentException("tensor must be contiguous.", nameof(tensor));
        return NativeMethods.TensorData(tensor.Handle);
    }
}

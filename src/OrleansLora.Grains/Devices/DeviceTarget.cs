namespace OrleansLora.Grains.Devices;

/// <summary>
/// One device a worker silo serves on: the CPU engine (index = which of them) or CUDA device <c>cuda:N</c>.
/// <paramref name="HostEmulated"/>: a <c>cuda:N</c> entry under <see cref="WorkerOptions.CudaHostEmulation"/>, whose CUDA
/// runner computes on the CPU (its own host context, no GPU); N then only names the entry.
/// </summary>
public readonly record struct DeviceTarget(bool IsCuda, int Index, bool HostEmulated = false)
{
    public static DeviceTarget Cpu(int index) => new(false, index);

    public static DeviceTarget Cuda(int index) => new(true, index);

    public static DeviceTarget EmulatedCuda(int index) => new(true, index, HostEmulated: true);

    public override string ToString() => !IsCuda ? "cpu" : HostEmulated ? $"cuda:{Index} (host emulation)" : $"cuda:{Index}";
}

namespace OrleansLora.Grains.Devices;

/// <summary>One device a worker silo serves on: the CPU engine (index = which of them) or CUDA device <c>cuda:N</c>.</summary>
public readonly record struct DeviceTarget(bool IsCuda, int Index)
{
    public static DeviceTarget Cpu(int index) => new(false, index);

    public static DeviceTarget Cuda(int index) => new(true, index);

    public override string ToString() => IsCuda ? $"cuda:{Index}" : "cpu";
}

using TorchSharp;

namespace OrleansLora.Engine.Checkpoints;

/// <summary>The safetensors dtype codes the engine reads and writes.</summary>
public enum SafetensorsDtype
{
    F32,
    F16,
    BF16,
}

public static class SafetensorsDtypeExtensions
{
    public static int ElementSize(this SafetensorsDtype dtype) => dtype == SafetensorsDtype.F32 ? 4 : 2;

    public static torch.ScalarType ToScalarType(this SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.F32 => torch.ScalarType.Float32,
        SafetensorsDtype.F16 => torch.ScalarType.Float16,
        _ => torch.ScalarType.BFloat16,
    };

    public static SafetensorsDtype FromScalarType(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float32 => SafetensorsDtype.F32,
        torch.ScalarType.Float16 => SafetensorsDtype.F16,
        torch.ScalarType.BFloat16 => SafetensorsDtype.BF16,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "safetensors output supports F32, F16 and BF16"),
    };
}

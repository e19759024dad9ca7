using TorchSharp;

namespace OrleansLora.Engine.Models;

/// <summary>Maps between config.json dtype names, safetensors dtype codes and TorchSharp scalar types.</summary>
public static class EngineDtypes
{
    public static torch.ScalarType FromTorchDtypeName(string name, string source) => name.ToLowerInvariant() switch
    {
        "float32" or "float" or "fp32" => torch.ScalarType.Float32,
        "float16" or "half" or "fp16" => torch.ScalarType.Float16,
        "bfloat16" or "bf16" => torch.ScalarType.BFloat16,
        _ => throw new ModelFormatException(source, $"dtype \"{name}\" is not supported; supported: float32, float16, bfloat16."),
    };

    public static string ToTorchDtypeName(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float32 => "float32",
        torch.ScalarType.Float16 => "float16",
        torch.ScalarType.BFloat16 => "bfloat16",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a model dtype"),
    };
}

namespace OrleansLora.Engine.Checkpoints;

/// <summary>One entry of a safetensors header; <see cref="DataOffset"/> is absolute in the file.</summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDtype Dtype, long[] Shape, long DataOffset, long ByteLength)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}

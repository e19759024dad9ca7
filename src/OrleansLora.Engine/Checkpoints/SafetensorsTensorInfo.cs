namespace OrleansLora.Engine.Checkpoints;

/// <summary>One entry of a safetensors header; <see cref="DataOffset"/> is absolute in the file.</summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDtype Dtype, long[] Shape, long DataOffset, long ByteLength)
{
    /// <summary>Elements in <see cref="Shape"/>; throws <see cref="OverflowException"/> for a shape no file can hold.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}

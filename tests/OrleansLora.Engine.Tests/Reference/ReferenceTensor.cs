namespace OrleansLora.Engine.Tests.Reference;

/// <summary>A checkpoint tensor widened to float64, row-major.</summary>
public sealed record ReferenceTensor(long[] Shape, double[] Data)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

namespace OrleansLora.Engine.ModelInit;

/// <summary>Progress of writing a model: bytes of tensor data written so far out of the total.</summary>
public readonly record struct ModelWriteProgress(long BytesWritten, long TotalBytes, string CurrentTensor);

namespace OrleansLora.Engine.Cuda;

/// <summary>Bytes a CUDA runner's model holds on its device, by use (olora_cuda_model_memory).</summary>
public sealed record CudaModelMemory(long WeightBytes, long KvBytes, long AdapterBytes, long ActivationBytes)
{
    public long TotalBytes => WeightBytes + KvBytes + AdapterBytes + ActivationBytes;
}

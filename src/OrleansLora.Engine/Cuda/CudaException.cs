namespace OrleansLora.Engine.Cuda;

/// <summary>A call into the CUDA runner library failed: the status and the library's own message.</summary>
public sealed class CudaException : Exception
{
    public CudaException(CudaStatus status, string message) : base(message) => Status = status;

    public CudaStatus Status { get; }

    /// <summary>Throws for a non-zero status, with what the library said about it.</summary>
    internal static void ThrowIfFailed(int status, string what)
    {
        if (status == 0)
            return;
        var s = Enum.IsDefined((CudaStatus)status) ? (CudaStatus)status : CudaStatus.Cuda;
        string detail = CudaNative.LastError();
        throw new CudaException(s, $"{what} failed ({s}){(detail.Length > 0 ? ": " + detail : "")}");
    }
}

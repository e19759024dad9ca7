namespace OrleansLora.Engine.Generation;

/// <summary>A <see cref="InferenceEngine.PinAdapterAsync"/> call waiting for its adapter to reach a device slot. Engine thread only.</summary>
internal sealed class PendingPin(string adapterId, CancellationToken cancellation)
{
    public string AdapterId { get; } = adapterId;
    public CancellationToken Cancellation { get; } = cancellation;
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

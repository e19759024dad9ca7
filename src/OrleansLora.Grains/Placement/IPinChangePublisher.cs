namespace OrleansLora.Grains.Placement;

/// <summary>What a GPU grain calls after a pin is taken or released: the silo's load publisher.</summary>
public interface IPinChangePublisher
{
    /// <summary>
    /// Publishes this silo's device load now and waits, briefly, until the other silos have applied it, so that the
    /// next placement through any silo sees the change. Never throws.
    /// </summary>
    Task PublishPinChangeAsync();
}

namespace OrleansLora.Grains.Devices;

/// <summary>Configuration section <c>OrleansLora:Worker</c>: the devices a worker silo owns.</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "OrleansLora:Worker";

    /// <summary>Devices (one engine each) on this silo; 0 makes the silo a gateway only.</summary>
    public int Devices { get; set; } = 1;

    /// <summary>
    /// Adapter slots per device kept out of pinning, so adapters beyond the pinned ones still run (swapped
    /// in LRU order between steps). Pinnable slots = MaxLoras - SwapSlots; at least 1.
    /// </summary>
    public int SwapSlots { get; set; } = 1;

    /// <summary>How often a GPU grain publishes its load for placement.</summary>
    public TimeSpan LoadPublishPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A device saturated (full batch and requests waiting) this long sheds one idle adapter to be re-placed.</summary>
    public TimeSpan ShedAfter { get; set; } = TimeSpan.FromSeconds(10);

    public void Validate(int maxLoras)
    {
        if (Devices < 0)
            throw new ArgumentException($"{SectionName}:Devices must be >= 0, got {Devices}.", nameof(Devices));
        // With every slot pinnable, an adapter that is not pinned would never get a slot to run in: its
        // requests would wait forever. One swap slot at least keeps every adapter servable.
        if (Devices > 0 && maxLoras > 0 && (SwapSlots < 1 || SwapSlots > maxLoras))
            throw new ArgumentException($"{SectionName}:SwapSlots must be in [1, MaxLoras = {maxLoras}], got {SwapSlots}: adapters beyond the pinned ones run in the swap slots, so at least one must stay unpinnable.", nameof(SwapSlots));
        if (LoadPublishPeriod <= TimeSpan.Zero || LoadPublishPeriod > TimeSpan.FromSeconds(1))
            throw new ArgumentException($"{SectionName}:LoadPublishPeriod must be in (0, 1 s], got {LoadPublishPeriod}.", nameof(LoadPublishPeriod));
        if (ShedAfter <= TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:ShedAfter must be positive, got {ShedAfter}.", nameof(ShedAfter));
    }
}

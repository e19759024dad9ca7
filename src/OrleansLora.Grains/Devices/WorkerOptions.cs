namespace OrleansLora.Grains.Devices;

/// <summary>Configuration section <c>OrleansLora:Worker</c>: the devices a worker silo owns.</summary>
public sealed class WorkerOptions
{
    public const string SectionName = "OrleansLora:Worker";

    /// <summary>
    /// Devices (one engine each) on this silo: <c>cpu</c>, <c>cuda:0,cuda:1,...</c>, <c>auto</c> (CUDA when there is
    /// a usable device, else the CPU), or a count of CPU engines (<c>0</c> makes the silo a gateway only). See
    /// <see cref="DeviceSpec"/>.
    /// </summary>
    public string Devices { get; set; } = "cpu";

    /// <summary>
    /// Runs the CUDA runner's forward on the CPU: every <c>cuda:N</c> entry of <see cref="Devices"/> becomes a CUDA
    /// runner on a host-emulation context of libolora_cuda.so (no GPU, no driver), each its own engine and GPU grain.
    /// For tests and debugging, slow. <c>cpu</c>, counts and <c>auto</c> are unaffected. Validated at start-up: the
    /// library must load (<c>OLORA_CUDA_LIBRARY</c>).
    /// </summary>
    public bool CudaHostEmulation { get; set; }

    /// <summary>True unless <see cref="Devices"/> is 0 (a gateway-only silo).</summary>
    public bool HasDevices => DeviceSpec.Parse(Devices) is { Auto: true } or { Targets.Count: > 0 };

    /// <summary>
    /// Adapter slots per device kept out of pinning, so adapters beyond the pinned ones still run (swapped
    /// in LRU order between steps). Pinnable slots = MaxLoras - SwapSlots; at least 1.
    /// </summary>
    public int SwapSlots { get; set; } = 1;

    /// <summary>How often the silo publishes its devices' load to every silo (each decides placement from what it received).</summary>
    public TimeSpan LoadPublishPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A device saturated (full batch and requests waiting) this long sheds one idle adapter to be re-placed.</summary>
    public TimeSpan ShedAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Pin every adapter into a device slot when it activates, as before issue 13 (then the order of first use
    /// decides which adapters hold slots). Off (default): only adapters registered with <c>pinned</c> are pinned;
    /// the others take slots as their traffic brings them (the engine's swap between steps).
    /// </summary>
    public bool PinOnActivation { get; set; }

    /// <summary>Whether a silo whose measured request load is well over the mean migrates adapters to an underloaded one.</summary>
    public bool Rebalance { get; set; } = true;

    /// <summary>How far over the mean request load per device (0.15: 15 %) a silo must be before it moves an adapter (hysteresis).</summary>
    public double RebalanceThreshold { get; set; } = 0.15;

    /// <summary>The least time between two adapters moved away by one silo, so each move shows in the published load first.</summary>
    public TimeSpan RebalanceCooldown { get; set; } = TimeSpan.FromSeconds(5);

    public void Validate(int maxLoras)
    {
        bool hasDevices = HasDevices; // parses Devices: an ArgumentException naming the option when it is invalid
        // With every slot pinnable, an adapter that is not pinned would never get a slot to run in: its
        // requests would wait forever. One swap slot at least keeps every adapter servable.
        if (hasDevices && maxLoras > 0 && (SwapSlots < 1 || SwapSlots > maxLoras))
            throw new ArgumentException($"{SectionName}:SwapSlots must be in [1, MaxLoras = {maxLoras}], got {SwapSlots}: adapters beyond the pinned ones run in the swap slots, so at least one must stay unpinnable.", nameof(SwapSlots));
        if (LoadPublishPeriod <= TimeSpan.Zero || LoadPublishPeriod > TimeSpan.FromSeconds(1))
            throw new ArgumentException($"{SectionName}:LoadPublishPeriod must be in (0, 1 s], got {LoadPublishPeriod}.", nameof(LoadPublishPeriod));
        if (ShedAfter <= TimeSpan.Zero)
            throw new ArgumentException($"{SectionName}:ShedAfter must be positive, got {ShedAfter}.", nameof(ShedAfter));
        if (!(RebalanceThreshold >= 0 && RebalanceThreshold <= 10))
            throw new ArgumentException($"{SectionName}:RebalanceThreshold must be in [0, 10], got {RebalanceThreshold}.", nameof(RebalanceThreshold));
        if (RebalanceCooldown < LoadPublishPeriod)
            throw new ArgumentException($"{SectionName}:RebalanceCooldown must be at least LoadPublishPeriod ({LoadPublishPeriod}), got {RebalanceCooldown}.", nameof(RebalanceCooldown));
    }
}

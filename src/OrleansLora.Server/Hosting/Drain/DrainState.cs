namespace OrleansLora.Server.Hosting.Drain;

/// <summary>Whether the silo is draining, and how many HTTP requests it is serving (probes and scrapes not counted).</summary>
public sealed class DrainState
{
    private int _inFlight;
    private volatile bool _draining;

    public bool IsDraining => _draining;

    public int InFlight => Volatile.Read(ref _inFlight);

    public void BeginDrain() => _draining = true;

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Exit() => Interlocked.Decrement(ref _inFlight);
}

using OrleansLora.Errors;

namespace OrleansLora.Grains.Deadlines;

/// <summary>
/// The deadline of one request's current wait, on a <see cref="TimeProvider"/>: <see cref="Token"/> is cancelled
/// when the caller cancels or when the wait started by <see cref="Start"/> runs past its deadline, and
/// <see cref="Expired"/> tells the two apart. Each <see cref="Start"/> restarts the clock; <see cref="Pause"/>
/// stops it while the caller holds a chunk (a slow reader is not a stuck device).
/// </summary>
internal sealed class RequestDeadline : IDisposable
{
    private readonly DeadlineOptions _options;
    private readonly CancellationToken _caller;
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource _linked;

    public RequestDeadline(DeadlineOptions options, TimeProvider time, CancellationToken caller)
    {
        _options = options;
        _caller = caller;
        _timer = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(caller, _timer.Token);
    }

    public DeadlinePhase Phase { get; private set; }

    public CancellationToken Token => _linked.Token;

    /// <summary>True when the deadline (not the caller) ended the wait.</summary>
    public bool Expired => _timer.IsCancellationRequested && !_caller.IsCancellationRequested;

    public void Start(DeadlinePhase phase)
    {
        Phase = phase;
        _timer.CancelAfter(_options.For(phase));
    }

    public void Pause() => _timer.CancelAfter(Timeout.InfiniteTimeSpan);

    public DeadlineExceededException Exceeded(string adapterId) =>
        new(adapterId, DeadlineOptions.WireName(Phase), _options.For(Phase), DeadlineOptions.SettingOf(Phase));

    public void Dispose()
    {
        _linked.Dispose();
        _timer.Dispose();
    }
}

using Microsoft.Extensions.Options;
using OrleansLora.Grains.Devices;

namespace OrleansLora.Server.Hosting.Drain;

/// <summary>
/// On SIGTERM (the host stopping), before Kestrel and the silo stop: marks the silo draining (/ready answers 503,
/// new requests get 503 with Retry-After) and waits, at most <see cref="DrainOptions.GracePeriod"/>, until the HTTP
/// requests in flight have finished and this silo's engines are idle. The silo then stops as Orleans stops one:
/// it leaves the membership and deactivates its grains, so the adapters re-activate on the remaining workers.
/// </summary>
internal sealed partial class GracefulDrain(
    DrainState state,
    IOptions<DrainOptions> options,
    LocalDevices devices,
    IServiceProvider services,
    TimeProvider time,
    ILogger<GracefulDrain> logger) : IHostedLifecycleService
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        state.BeginDrain();
        var grace = options.Value.GracePeriod;
        LogDraining(logger, grace.TotalSeconds);
        long started = time.GetTimestamp();
        var engines = devices.Count > 0 ? services.GetService<DeviceEngines>() : null;
        try
        {
            while (Busy(engines) is { } busy)
            {
                if (time.GetElapsedTime(started) >= grace)
                {
                    LogGraceOver(logger, grace.TotalSeconds, busy);
                    return;
                }
                await Task.Delay(Poll, time, cancellationToken);
            }
            LogDrained(logger, time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's shutdown timeout came first: stop now.
        }
    }

    /// <summary>What is still in flight, or null when nothing is.</summary>
    private string? Busy(DeviceEngines? engines)
    {
        int requests = state.InFlight;
        int sequences = 0;
        for (int i = 0; i < (engines?.Count ?? 0); i++)
        {
            var s = engines![i].Statistics;
            sequences += s.RunningSequences + s.WaitingRequests;
        }
        return requests == 0 && sequences == 0 ? null : $"{requests} HTTP requests, {sequences} engine sequences";
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining: not ready, refusing new requests, waiting up to {GraceSeconds} s for the ones in flight")]
    private static partial void LogDraining(ILogger logger, double graceSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained in {Milliseconds} ms; leaving the cluster")]
    private static partial void LogDrained(ILogger logger, double milliseconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Grace period of {GraceSeconds} s over with {Busy} still in flight; leaving the cluster")]
    private static partial void LogGraceOver(ILogger logger, double graceSeconds, string busy);
}

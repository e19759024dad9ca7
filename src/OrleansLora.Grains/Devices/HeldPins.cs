using Microsoft.Extensions.Logging;

namespace OrleansLora.Grains.Devices;

/// <summary>
/// Pins whose adapter activation the runtime took away without the adapter choosing to leave: a directory failure,
/// when the silo that held the activation's directory entry left the cluster. Such an activation comes back at once
/// (the next call re-creates it) and placement sends it to the silo still holding its pin, so the pin is kept for
/// <see cref="Grace"/> instead of being released and taken by another adapter meanwhile. A pin the re-created
/// activation does not claim within the grace (it went elsewhere, or no call came) is released, as an idle
/// deactivation would have released it. Per silo: the engines are this silo's.
/// </summary>
public sealed partial class HeldPins(DeviceEngines engines, TimeProvider time, ILogger<HeldPins> logger) : IDisposable
{
    /// <summary>How long a held pin waits for its adapter to activate here again: several load publishes.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly Dictionary<(int Device, string AdapterId), ITimer> _held = [];

    /// <summary>Adapters held on <paramref name="device"/> now.</summary>
    public IReadOnlyList<string> HeldOn(int device)
    {
        lock (_lock)
            return _held.Keys.Where(k => k.Device == device).Select(k => k.AdapterId).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Keeps <paramref name="adapterId"/>'s pin on <paramref name="device"/> for <see cref="Grace"/>.</summary>
    public void Hold(int device, string adapterId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(device);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(device, engines.Count);
        var key = (device, adapterId);
        lock (_lock)
        {
            if (_held.Remove(key, out var previous))
                previous.Dispose();
            _held[key] = time.CreateTimer(_ => _ = ReleaseAsync(key), null, Grace, Timeout.InfiniteTimeSpan);
        }
        LogHeld(logger, adapterId, device, Grace);
    }

    /// <summary>The adapter activated on <paramref name="device"/> again: its pin is its own once more. False when none was held.</summary>
    public bool Claim(int device, string adapterId)
    {
        lock (_lock)
        {
            if (!_held.Remove((device, adapterId), out var timer))
                return false;
            timer.Dispose();
        }
        LogClaimed(logger, adapterId, device);
        return true;
    }

    private async Task ReleaseAsync((int Device, string AdapterId) key)
    {
        lock (_lock)
        {
            if (!_held.Remove(key, out var timer))
                return; // claimed meanwhile
            timer.Dispose();
        }
        try
        {
            var engine = engines[key.Device];
            if (engine.IsAdapterRegistered(key.AdapterId))
                await engine.ReleasePinsAsync(key.AdapterId);
            LogReleased(logger, key.AdapterId, key.Device, Grace);
        }
        catch (ObjectDisposedException)
        {
            // The silo is stopping: its engines, and every pin with them, are going.
        }
        catch (Exception ex)
        {
            LogReleaseFailed(logger, ex, key.AdapterId, key.Device);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var timer in _held.Values)
                timer.Dispose();
            _held.Clear();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Adapter {AdapterId} lost its activation to the runtime; its pin on device {Device} is held for {Grace}")]
    private static partial void LogHeld(ILogger logger, string adapterId, int device, TimeSpan grace);

    [LoggerMessage(Level = LogLevel.Information, Message = "Adapter {AdapterId} activated again and claimed its held pin on device {Device}")]
    private static partial void LogClaimed(ILogger logger, string adapterId, int device);

    [LoggerMessage(Level = LogLevel.Information, Message = "Adapter {AdapterId} did not come back to device {Device} within {Grace}: its held pin is released")]
    private static partial void LogReleased(ILogger logger, string adapterId, int device, TimeSpan grace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing the held pin of adapter {AdapterId} on device {Device} failed")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string adapterId, int device);
}

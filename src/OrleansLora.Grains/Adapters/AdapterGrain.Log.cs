using Microsoft.Extensions.Logging;

namespace OrleansLora.Grains.Adapters;

// The adapter grain's log messages.
public sealed partial class AdapterGrain
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Adapter {AdapterId} registered from {Source}")]
    private static partial void LogRegistered(ILogger logger, string adapterId, string source);

    [LoggerMessage(Level = LogLevel.Information, Message = "Adapter {AdapterId} on device {Device} (pinned: {Pinned})")]
    private static partial void LogPinned(ILogger logger, string adapterId, string device, bool pinned);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Adapter {AdapterId} could not be placed on a device at activation")]
    private static partial void LogPinFailed(ILogger logger, Exception exception, string adapterId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Adapter {AdapterId} could not be unpinned")]
    private static partial void LogUnpinFailed(ILogger logger, Exception exception, string adapterId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Adapter {AdapterId}: counters not saved while the silo stopped")]
    private static partial void LogCountersNotSaved(ILogger logger, Exception exception, string adapterId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Adapter {AdapterId}: a request passed its {Phase} deadline ({Deadline}) and was ended")]
    private static partial void LogDeadlineExceeded(ILogger logger, string adapterId, string phase, TimeSpan deadline);

    [LoggerMessage(Level = LogLevel.Information, Message = "Adapter {AdapterId} deactivated ({Reason})")]
    private static partial void LogDeactivated(ILogger logger, string adapterId, string reason);
}

using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace OrleansLora.Grains.Adapters;

/// <summary>
/// Grain-state writes that survive a storage which lost its records (a Redis restarted without persistence):
/// the write's etag no longer matches anything, which Orleans reports as <see cref="InconsistentStateException"/>.
/// When the record is gone the activation's in-memory state is the best copy left, so it is written again as a
/// new record; a record written by someone else meanwhile is a real conflict and still throws.
/// </summary>
internal static partial class LostRecordRecovery
{
    public static async Task WriteOrRecreateAsync<T>(this IPersistentState<T> state, ILogger logger, string grain, CancellationToken cancellationToken = default)
    {
        try
        {
            await state.WriteStateAsync(cancellationToken);
        }
        catch (InconsistentStateException)
        {
            var mine = state.State;
            await state.ReadStateAsync(cancellationToken);
            bool lost = !state.RecordExists;
            state.State = mine;
            if (!lost)
                throw;
            LogRecreated(logger, grain);
            await state.WriteStateAsync(cancellationToken);
        }
    }

    public static async Task ClearOrForgetAsync<T>(this IPersistentState<T> state, CancellationToken cancellationToken = default)
    {
        try
        {
            await state.ClearStateAsync(cancellationToken);
        }
        catch (InconsistentStateException)
        {
            await state.ReadStateAsync(cancellationToken);
            if (state.RecordExists)
                throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Grain storage lost the state of {Grain} (a storage restart without persistence?); wrote it again from memory")]
    private static partial void LogRecreated(ILogger logger, string grain);
}

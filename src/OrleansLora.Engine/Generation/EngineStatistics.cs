namespace OrleansLora.Engine.Generation;

/// <summary>A snapshot of the engine's state and counters.</summary>
public sealed record EngineStatistics(
    int RunningSequences,
    int WaitingRequests,
    int FreeKvSlots,
    int TotalKvSlots,
    long Steps,
    long GeneratedTokens,
    long PrefillTokens,
    double LastStepMilliseconds);

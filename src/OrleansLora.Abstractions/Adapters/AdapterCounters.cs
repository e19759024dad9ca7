namespace OrleansLora.Adapters;

/// <summary>An adapter's lifetime counters (kept in grain storage).</summary>
[GenerateSerializer]
public sealed record AdapterCounters
{
    [Id(0)] public long Requests { get; init; }
    [Id(1)] public long PromptTokens { get; init; }
    [Id(2)] public long GeneratedTokens { get; init; }
    [Id(3)] public long Errors { get; init; }
    [Id(4)] public long Cancelled { get; init; }
}

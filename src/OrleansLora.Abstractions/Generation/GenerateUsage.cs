namespace OrleansLora.Generation;

/// <summary>Token counts of a finished generation and the seed it sampled with; timings measured on the worker.</summary>
[GenerateSerializer, Immutable]
public sealed record GenerateUsage(
    [property: Id(0)] int PromptTokens,
    [property: Id(1)] int CompletionTokens,
    [property: Id(2)] ulong Seed,
    [property: Id(3)] double QueueMilliseconds = 0,
    [property: Id(4)] double TimeToFirstTokenMilliseconds = 0);

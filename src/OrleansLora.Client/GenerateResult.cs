using OrleansLora.Generation;

namespace OrleansLora.Client;

/// <summary>A whole generation: its text, token ids, why it ended and its usage.</summary>
public sealed record GenerateResult(string Text, IReadOnlyList<int> TokenIds, GenerateFinishReason FinishReason, GenerateUsage Usage);

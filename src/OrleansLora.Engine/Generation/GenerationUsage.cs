namespace OrleansLora.Engine.Generation;

/// <summary>Token counts of a finished generation, and the sampling seed used (LoRAX reports it).</summary>
public sealed record GenerationUsage(int PromptTokens, int CompletionTokens, ulong Seed);

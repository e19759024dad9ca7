namespace OrleansLora.Errors;

/// <summary>The prompt does not fit in the model's context (HTTP 413).</summary>
[GenerateSerializer]
public sealed class ContextLengthExceededException(int promptTokens, int maxTokens)
    : OrleansLoraException($"the prompt has {promptTokens} tokens; this model's context holds {maxTokens} (prompt plus at least one generated token).")
{
    [Id(0)] public int PromptTokens { get; private set; } = promptTokens;
    [Id(1)] public int MaxTokens { get; private set; } = maxTokens;
}

namespace OrleansLora.Engine.Generation;

/// <summary>A prompt that can never fit the context: no amount of waiting admits it.</summary>
public sealed class PromptTooLongException(int promptTokens, int contextLength)
    : ArgumentException($"the prompt has {promptTokens} tokens but the context holds {contextLength} (prompt plus at least one generated token must fit).")
{
    public int PromptTokens { get; } = promptTokens;
    public int ContextLength { get; } = contextLength;
}

namespace OrleansLora.Errors;

/// <summary>The prompt does not fit in the model's context (HTTP 413).</summary>
[GenerateSerializer]
public sealed class ContextLengthExceededException : OrleansLoraException
{
    public ContextLengthExceededException(int promptTokens, int maxTokens)
        : this($"the prompt has {promptTokens} tokens; this model's context holds {maxTokens} (prompt plus at least one generated token).", promptTokens, maxTokens)
    {
    }

    private ContextLengthExceededException(string message, int promptTokens, int maxTokens) : base(message)
    {
        PromptTokens = promptTokens;
        MaxTokens = maxTokens;
    }

    /// <summary>Refused before tokenizing: the text alone is longer than any prompt that fits (<see cref="PromptTokens"/> is then -1).</summary>
    public static ContextLengthExceededException ForCharacters(long promptChars, long maxChars, int maxTokens) =>
        new($"the prompt has {promptChars} characters; no prompt longer than {maxChars} characters fits this model's context of {maxTokens} tokens.", -1, maxTokens);

    /// <summary>Refused before rendering the chat template: every message takes at least one token (<see cref="PromptTokens"/> is then -1).</summary>
    public static ContextLengthExceededException ForMessages(int messages, int maxTokens) =>
        new($"the prompt has {messages} messages; each takes at least one token, and this model's context holds {maxTokens}.", -1, maxTokens);

    [Id(0)] public int PromptTokens { get; private set; }
    [Id(1)] public int MaxTokens { get; private set; }
}

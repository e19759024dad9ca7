namespace OrleansLora.Generation;

/// <summary>
/// A prompt to tokenize as a generation on the adapter would (vLLM's <c>/tokenize</c>): text or chat messages, exactly one.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TokenizeQuery
{
    [Id(0)] public string? Prompt { get; init; }
    [Id(1)] public IReadOnlyList<ChatMessageItem>? Messages { get; init; }
    /// <summary>OpenAI tool definitions as a JSON array, rendered through the chat template; null: none.</summary>
    [Id(2)] public string? Tools { get; init; }
    /// <summary>Add the tokenizer's special tokens (BOS); null: as a generation does (text: yes; chat: unless the template writes them).</summary>
    [Id(3)] public bool? AddSpecialTokens { get; init; }
    /// <summary>Chat: end the rendered text where the assistant's answer begins, as a generation does.</summary>
    [Id(4)] public bool AddGenerationPrompt { get; init; } = true;
}

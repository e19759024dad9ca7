using System.Text.Json;
using OrleansLora.Errors;
using OrleansLora.Server.Http.OpenAi;

namespace OrleansLora.Server.Http.Tokenize;

/// <summary>
/// POST /tokenize in vLLM's shape: <c>model</c> (adapter or base), and <c>prompt</c> (text) or <c>messages</c> (a chat,
/// rendered through the chat template with <c>tools</c>, ending in the generation prompt unless
/// <c>add_generation_prompt</c> is false), exactly one.
/// </summary>
public sealed record TokenizeRequest : IValidatedRequest
{
    public string? Model { get; init; }
    public string? Prompt { get; init; }
    public IReadOnlyList<ChatMessageDto?>? Messages { get; init; }

    /// <summary>Add BOS (the tokenizer's special tokens); default as a generation does: text yes, chat only when the template does not write it.</summary>
    public bool? AddSpecialTokens { get; init; }

    public bool? AddGenerationPrompt { get; init; }
    public JsonElement? Tools { get; init; }

    public void Validate()
    {
        if (Prompt is not null && Messages is not null)
            throw new InvalidRequestException("give prompt or messages, not both.", "messages");
        if (Prompt is null && Messages is null)
            throw new InvalidRequestException("prompt (a string) or messages (a chat) is required.", "prompt");
        if (Messages is not null)
            ChatCompletionRequest.ValidateMessages(Messages);
        else if (AddGenerationPrompt is not null)
            throw new InvalidRequestException("add_generation_prompt applies to messages only.", "add_generation_prompt");
        FieldChecks.ArrayOrNull(Tools, "tools");
        if (FieldChecks.IsSet(Tools) && Messages is null)
            throw new InvalidRequestException("tools apply to messages only.", "tools");
    }
}

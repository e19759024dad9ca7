using System.Text.Json;
using OrleansLora.Errors;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>POST /v1/chat/completions: <c>model</c> names the adapter (empty or the base model's name: none).</summary>
public sealed record ChatCompletionRequest : OpenAiSamplingRequest
{
    public IReadOnlyList<ChatMessageDto?>? Messages { get; init; }
    public int? MaxCompletionTokens { get; init; }

    /// <summary>Refused when true: the engine returns no log-probabilities.</summary>
    public bool? Logprobs { get; init; }

    public int? TopLogprobs { get; init; }

    /// <summary>Refused when not empty: no tool calling.</summary>
    public JsonElement? Tools { get; init; }

    public JsonElement? Functions { get; init; }

    /// <summary>Refused unless absent or <c>{"type": "text"}</c>: no constrained (JSON) decoding.</summary>
    public JsonElement? ResponseFormat { get; init; }

    /// <summary>The roles a message may have; <c>developer</c> is OpenAI's newer name for <c>system</c>.</summary>
    public static bool IsRole(string? role) => role is "system" or "user" or "assistant" or "developer";

    public override void Validate()
    {
        base.Validate();
        if (Messages is not { Count: > 0 } messages)
            throw new InvalidRequestException("messages is required and must hold at least one message.", "messages");
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not { } m)
                throw new InvalidRequestException($"messages[{i}] must be a message object, got null.", $"messages[{i}]");
            if (m.Role is null)
                throw new InvalidRequestException($"messages[{i}].role is required.", $"messages[{i}].role");
            if (!IsRole(m.Role))
                throw new InvalidRequestException($"messages[{i}].role must be system, developer, user or assistant, got {FieldChecks.Quote(m.Role)}.", $"messages[{i}].role");
            if (m.Content is null)
                throw new InvalidRequestException($"messages[{i}].content is required.", $"messages[{i}].content");
        }
        FieldChecks.AtLeast(MaxCompletionTokens, "max_completion_tokens", 1);
        if (MaxTokens is not null && MaxCompletionTokens is not null && MaxTokens != MaxCompletionTokens)
            throw new InvalidRequestException("give max_completion_tokens or max_tokens, not two different values.", "max_completion_tokens");
        if (TopLogprobs is < 0 or > 20)
            throw new InvalidRequestException($"top_logprobs must be in [0, 20], got {TopLogprobs}.", "top_logprobs");
        if (Logprobs == true || TopLogprobs is > 0)
            throw new InvalidRequestException("logprobs is not supported: the engine returns no log-probabilities.", Logprobs == true ? "logprobs" : "top_logprobs");
        FieldChecks.ArrayOrNull(Tools, "tools");
        FieldChecks.ArrayOrNull(Functions, "functions");
        if (FieldChecks.IsSet(Tools) || FieldChecks.IsSet(Functions))
            throw new InvalidRequestException("tool and function calling is not supported.", FieldChecks.IsSet(Tools) ? "tools" : "functions");
        FieldChecks.ObjectOrNull(ResponseFormat, "response_format");
        if (ResponseFormat is { ValueKind: JsonValueKind.Object } format && !(format.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "text"))
            throw new InvalidRequestException("response_format other than {\"type\": \"text\"} is not supported: no constrained decoding.", "response_format");
    }
}

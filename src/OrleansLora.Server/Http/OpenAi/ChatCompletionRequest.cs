using System.Text.Json;
using OrleansLora.Errors;
using OrleansLora.Generation;

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>POST /v1/chat/completions: <c>model</c> names the adapter (empty or the base model's name: none).</summary>
public sealed record ChatCompletionRequest : OpenAiSamplingRequest
{
    public IReadOnlyList<ChatMessageDto?>? Messages { get; init; }
    public int? MaxCompletionTokens { get; init; }

    /// <summary>True: each choice carries the log-probability of every generated token.</summary>
    public bool? Logprobs { get; init; }

    /// <summary>With <see cref="Logprobs"/>: how many of the most likely tokens to list at each position, 0-20.</summary>
    public int? TopLogprobs { get; init; }

    /// <summary>The engine request's log-probability count (after <see cref="Validate"/>): null when not asked.</summary>
    public override int? LogprobCount() => Logprobs == true ? TopLogprobs ?? 0 : null;

    /// <summary>OpenAI function tools, rendered through the model's chat template.</summary>
    public JsonElement? Tools { get; init; }

    /// <summary><c>"none"</c>, <c>"auto"</c> (the default with tools), <c>"required"</c> or <c>{"type": "function", "function": {"name"}}</c>.</summary>
    public JsonElement? ToolChoice { get; init; }

    public bool? ParallelToolCalls { get; init; }

    /// <summary>Refused when not empty: the legacy function-calling fields; use tools.</summary>
    public JsonElement? Functions { get; init; }

    /// <summary><c>text</c>, <c>json_object</c> or <c>json_schema</c>: see <see cref="StructuredOutput"/>.</summary>
    public JsonElement? ResponseFormat { get; init; }

    /// <summary>Refused when set: this server answers text only.</summary>
    public JsonElement? Audio { get; init; }

    /// <summary>Refused unless only <c>"text"</c>.</summary>
    public IReadOnlyList<string>? Modalities { get; init; }

    /// <summary>Refused when set: no web search.</summary>
    public JsonElement? WebSearchOptions { get; init; }

    /// <summary>Legacy: refused when it names a function (use tools); <c>"none"</c> and <c>"auto"</c> change nothing without functions.</summary>
    public JsonElement? FunctionCall { get; init; }

    /// <summary>The roles a message may have; <c>developer</c> is OpenAI's newer name for <c>system</c>.</summary>
    public static bool IsRole(string? role) => role is "system" or "user" or "assistant" or "developer" or "tool";

    /// <summary>The tool choice (after <see cref="Validate"/>): none without tools, auto by default with them.</summary>
    public (ToolChoiceMode Mode, string? Function) ToolChoiceOf()
    {
        if (!FieldChecks.IsSet(Tools))
            return (ToolChoiceMode.None, null);
        return ToolChoice switch
        {
            { ValueKind: JsonValueKind.String } s => s.GetString() switch
            {
                "none" => (ToolChoiceMode.None, null),
                "required" => (ToolChoiceMode.Required, null),
                _ => (ToolChoiceMode.Auto, null),
            },
            { ValueKind: JsonValueKind.Object } o => (ToolChoiceMode.Function, o.GetProperty("function").GetProperty("name").GetString()),
            _ => (ToolChoiceMode.Auto, null),
        };
    }

    public override void Validate()
    {
        base.Validate();
        ValidateMessages(Messages);
        FieldChecks.AtLeast(MaxCompletionTokens, "max_completion_tokens", 1);
        if (MaxTokens is not null && MaxCompletionTokens is not null && MaxTokens != MaxCompletionTokens)
            throw new InvalidRequestException("give max_completion_tokens or max_tokens, not two different values.", "max_completion_tokens");
        if (TopLogprobs is < 0 or > MaxTopLogprobs)
            throw new InvalidRequestException($"top_logprobs must be in [0, {MaxTopLogprobs}], got {TopLogprobs}.", "top_logprobs");
        if (TopLogprobs is > 0 && Logprobs != true)
            throw new InvalidRequestException("top_logprobs needs logprobs: true.", "top_logprobs");
        FieldChecks.ArrayOrNull(Tools, "tools");
        FieldChecks.ArrayOrNull(Functions, "functions");
        if (FieldChecks.IsSet(Functions))
            throw new InvalidRequestException("functions (legacy function calling) is not supported; use tools.", "functions");
        FieldChecks.ObjectOrNull(ResponseFormat, "response_format");
        if (Audio is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) })
            throw new InvalidRequestException("audio output is not supported: this server answers text.", "audio");
        if (Modalities is { } modalities && modalities.Any(m => m != "text"))
            throw new InvalidRequestException("modalities must be [\"text\"]: this server answers text only.", "modalities");
        if (WebSearchOptions is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) }) // {} asks for search with defaults
            throw new InvalidRequestException("web_search_options is not supported: no web search.", "web_search_options");
        if (FunctionCall is { ValueKind: JsonValueKind.Object })
            throw new InvalidRequestException("function_call (legacy function calling) is not supported; use tools and tool_choice.", "function_call");
        ValidateTools();
    }

    /// <summary>The messages of a chat (here and on /tokenize): at least one, each with a known role and content or tool calls.</summary>
    public static void ValidateMessages(IReadOnlyList<ChatMessageDto?>? messages)
    {
        if (messages is not { Count: > 0 })
            throw new InvalidRequestException("messages is required and must hold at least one message.", "messages");
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i] is not { } m)
                throw new InvalidRequestException($"messages[{i}] must be a message object, got null.", $"messages[{i}]");
            if (m.Role is null)
                throw new InvalidRequestException($"messages[{i}].role is required.", $"messages[{i}].role");
            if (!IsRole(m.Role))
                throw new InvalidRequestException($"messages[{i}].role must be system, developer, user, assistant or tool, got {FieldChecks.Quote(m.Role)}.", $"messages[{i}].role");
            if (m.ToolCalls is { Count: > 0 } calls)
            {
                if (m.Role != "assistant")
                    throw new InvalidRequestException($"messages[{i}].tool_calls is only for assistant messages.", $"messages[{i}].tool_calls");
                for (int c = 0; c < calls.Count; c++)
                {
                    if (calls[c]?.Function is not { Name: { Length: > 0 } } function || !IsJsonObject(function.Arguments ?? "{}"))
                        throw new InvalidRequestException($"messages[{i}].tool_calls[{c}] needs function.name and function.arguments holding a JSON object.", $"messages[{i}].tool_calls[{c}]");
                }
            }
            else if (m.Content is null)
                throw new InvalidRequestException($"messages[{i}].content is required.", $"messages[{i}].content");
        }
    }

    private void ValidateTools()
    {
        IReadOnlyList<string> names = [];
        if (FieldChecks.IsSet(Tools))
        {
            try
            {
                names = ToolCalling.Functions(Tools!.Value.GetRawText()).Select(f => f.Name).ToList();
            }
            catch (ArgumentException e)
            {
                throw new InvalidRequestException(ErrorMapping.MessageOf(e), e.ParamName ?? "tools");
            }
        }
        switch (ToolChoice)
        {
            case null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }:
                return;
            case { ValueKind: JsonValueKind.String } s when s.GetString() is "none" or "auto" or "required":
                if (s.GetString() == "required" && names.Count == 0)
                    throw new InvalidRequestException("tool_choice \"required\" needs tools.", "tool_choice");
                return;
            case { ValueKind: JsonValueKind.Object } o
                when o.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object
                  && f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String:
                if (!names.Contains(n.GetString()!))
                    throw new InvalidRequestException($"tool_choice names function {FieldChecks.Quote(n.GetString())}, which tools does not define.", "tool_choice");
                return;
            default:
                throw new InvalidRequestException("tool_choice must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}.", "tool_choice");
        }
    }

    private static bool IsJsonObject(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

using System.Text.Json;
using OrleansLora.Engine.Tokenization.Jinja;

namespace OrleansLora.Engine.Tokenization;

/// <summary>Turns <see cref="ChatMessage"/>s into the dicts a template iterates over.</summary>
internal static class ChatMessageValues
{
    public static Dictionary<string, object?> ToDict(ChatMessage message)
    {
        var dict = new Dictionary<string, object?> { ["role"] = message.Role, ["content"] = message.Content };
        if (message.ToolCalls is { } calls)
            dict["tool_calls"] = calls.Select(ToolCall).ToList();
        if (message.ToolCallId is not null)
            dict["tool_call_id"] = message.ToolCallId;
        if (message.Name is not null)
            dict["name"] = message.Name;
        if (message.ReasoningContent is not null)
            dict["reasoning_content"] = message.ReasoningContent;
        return dict;
    }

    private static Dictionary<string, object?> ToolCall(ChatToolCall call)
    {
        var dict = new Dictionary<string, object?>();
        if (call.Id is not null)
            dict["id"] = call.Id;
        dict["type"] = "function";
        dict["function"] = new Dictionary<string, object?> { ["name"] = call.Name, ["arguments"] = Arguments(call.Arguments) };
        return dict;
    }

    /// <summary>vLLM decodes OpenAI's JSON-string arguments into an object before rendering; so do we.</summary>
    private static object? Arguments(JsonElement arguments)
    {
        if (arguments.ValueKind == JsonValueKind.String && arguments.GetString() is { } text && text.TrimStart().StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                return TemplateValues.From(document.RootElement.Clone());
            }
            catch (JsonException)
            {
                // Not JSON after all: the template sees the string.
            }
        }
        return TemplateValues.From(arguments);
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using OrleansLora.Generation;

namespace OrleansLora.Client;

/// <summary>
/// <see cref="ChatOptions.Tools"/>, <see cref="ChatOptions.ToolMode"/> and <see cref="ChatOptions.ResponseFormat"/>
/// in the wire's terms (tool definitions as OpenAI JSON, the output constraint), and tool calls back as
/// <see cref="FunctionCallContent"/>: the same rules as the HTTP gateway (<see cref="ToolCalling"/>).
/// </summary>
internal static class ChatToolMapping
{
    /// <summary>The tools as an OpenAI <c>tools</c> JSON array, or null when there are none.</summary>
    public static string? Tools(ChatOptions? options)
    {
        var functions = options?.Tools?.OfType<AIFunctionDeclaration>().ToList();
        if (functions is not { Count: > 0 })
            return null;
        var tools = new JsonArray();
        foreach (var f in functions)
        {
            tools.Add(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = f.Name,
                    ["description"] = f.Description,
                    ["parameters"] = JsonNode.Parse(f.JsonSchema.GetRawText()),
                },
            });
        }
        return tools.ToJsonString();
    }

    public static (ToolChoiceMode Mode, string? Function) Choice(ChatOptions? options, string? tools) =>
        tools is null ? (ToolChoiceMode.None, null)
        : options?.ToolMode switch
        {
            NoneChatToolMode => (ToolChoiceMode.None, null),
            RequiredChatToolMode { RequiredFunctionName: { } name } => (ToolChoiceMode.Function, name),
            RequiredChatToolMode => (ToolChoiceMode.Required, null),
            _ => (ToolChoiceMode.Auto, null),
        };

    /// <summary>A required or named tool call's grammar, else the response format's.</summary>
    public static OutputConstraint? Constraint(ChatOptions? options, string? tools, ToolChoiceMode mode, string? function)
    {
        if (tools is not null && mode is ToolChoiceMode.Required or ToolChoiceMode.Function)
            return ToolCalling.Constraint(tools, mode, function);
        return options?.ResponseFormat switch
        {
            ChatResponseFormatJson { Schema: { } schema } => OutputConstraint.JsonSchema(schema.GetRawText()),
            ChatResponseFormatJson => OutputConstraint.JsonObject,
            _ => null,
        };
    }

    /// <summary>The answer's contents: text, and the calls parsed from it when tools are in play.</summary>
    public static (List<AIContent> Contents, bool HasCalls) Contents(string text, ToolChoiceMode mode, string? function, bool toolsInPlay)
    {
        if (toolsInPlay && mode != ToolChoiceMode.None && ToolCalling.Parse(text, mode, function) is { ToolCalls.Count: > 0 } parsed)
        {
            var contents = new List<AIContent>();
            if (!string.IsNullOrEmpty(parsed.Content))
                contents.Add(new TextContent(parsed.Content));
            foreach (var call in parsed.ToolCalls)
                contents.Add(new FunctionCallContent(call.Id, call.Name, Arguments(call.Arguments)));
            return (contents, true);
        }
        return ([new TextContent(text)], false);
    }

    /// <summary>A message's contents on the wire: text, assistant tool calls, or a tool result.</summary>
    public static ChatMessageItem Item(ChatMessage message)
    {
        var text = new System.Text.StringBuilder();
        var calls = new List<ToolCallItem>();
        string? resultOf = null;
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case TextContent t:
                    text.Append(t.Text);
                    break;
                case FunctionCallContent call:
                    calls.Add(new ToolCallItem(call.CallId, call.Name, JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions)));
                    break;
                case FunctionResultContent result:
                    resultOf = result.CallId;
                    text.Append(result.Result is string s ? s : JsonSerializer.Serialize(result.Result, AIJsonUtilities.DefaultOptions));
                    break;
                default:
                    throw new NotSupportedException($"message content of type {content.GetType().Name} is not supported; OrleansLora serves text models.");
            }
        }
        string role = resultOf is not null ? "tool" : message.Role.Value;
        return new ChatMessageItem(role, text.ToString())
        {
            ToolCalls = calls.Count > 0 ? calls : null,
            ToolCallId = resultOf,
        };
    }

    private static Dictionary<string, object?> Arguments(string json)
    {
        var result = new Dictionary<string, object?>();
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in document.RootElement.EnumerateObject())
                    result[property.Name] = property.Value.Clone();
            }
        }
        catch (JsonException)
        {
            // Unparseable arguments (a truncated auto-mode call) leave the dictionary empty.
        }
        return result;
    }
}

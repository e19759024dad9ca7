using System.Text.Json;
using System.Text.Json.Nodes;

namespace OrleansLora.Generation;

/// <summary>
/// Tool calling over plain generation, shared by the HTTP gateway and the .NET client (as vLLM does it):
/// tools are rendered through the chat template; a <see cref="ToolChoiceMode.Required"/> or named choice
/// constrains the output to JSON (a list of <c>{"name", "parameters"}</c>, or the named function's
/// arguments) so every call parses and matches its function's schema; with <see cref="ToolChoiceMode.Auto"/>
/// the calls the model writes in its own syntax (Hermes/Qwen <c>&lt;tool_call&gt;</c>, Mistral
/// <c>[TOOL_CALLS]</c>, Llama-3.1 JSON) are parsed back.
/// </summary>
public static class ToolCalling
{
    /// <summary>The function definitions of an OpenAI <c>tools</c> array: name and parameters schema.</summary>
    /// <exception cref="ArgumentException">Not an array of <c>{"type": "function", "function": {"name", ...}}</c>.</exception>
    public static IReadOnlyList<(string Name, JsonNode Parameters)> Functions(string toolsJson)
    {
        var result = new List<(string, JsonNode)>();
        if (JsonNode.Parse(toolsJson) is not JsonArray tools)
            throw new ArgumentException("tools must be an array.", "tools");
        for (int i = 0; i < tools.Count; i++)
        {
            if (tools[i] is not JsonObject tool || tool["function"] is not JsonObject function
                || function["name"] is not JsonValue nameValue || !nameValue.TryGetValue(out string? name) || string.IsNullOrEmpty(name))
            {
                throw new ArgumentException($"tools[{i}] must be {{\"type\": \"function\", \"function\": {{\"name\": ..., \"parameters\": ...}}}}.", $"tools[{i}]");
            }
            if (tool["type"] is JsonValue type && type.TryGetValue(out string? t) && t != "function")
                throw new ArgumentException($"tools[{i}].type must be \"function\", got \"{t}\".", $"tools[{i}].type");
            result.Add((name, function["parameters"]?.DeepClone() ?? new JsonObject { ["type"] = "object" }));
        }
        return result;
    }

    /// <summary>The output constraint a tool choice implies, or null (none, auto).</summary>
    /// <exception cref="ArgumentException">A named function the tools do not define.</exception>
    public static OutputConstraint? Constraint(string toolsJson, ToolChoiceMode mode, string? functionName)
    {
        if (mode is ToolChoiceMode.None or ToolChoiceMode.Auto)
            return null;
        var functions = Functions(toolsJson);
        if (mode == ToolChoiceMode.Function)
        {
            var match = functions.FirstOrDefault(f => f.Name == functionName);
            if (match.Name is null)
                throw new ArgumentException($"tool_choice names function \"{functionName}\", which tools does not define.", "tool_choice");
            return OutputConstraint.JsonSchema(match.Parameters.ToJsonString());
        }
        var branches = new JsonArray();
        foreach (var (name, parameters) in functions)
        {
            branches.Add(new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { ["name"] = new JsonObject { ["const"] = name }, ["parameters"] = parameters.DeepClone() },
                ["required"] = new JsonArray("name", "parameters"),
                ["additionalProperties"] = false,
            });
        }
        var schema = new JsonObject { ["type"] = "array", ["minItems"] = 1, ["items"] = new JsonObject { ["anyOf"] = branches } };
        return OutputConstraint.JsonSchema(schema.ToJsonString());
    }

    /// <summary>Splits a finished answer into text and tool calls, as the tool choice shaped it.</summary>
    public static ToolCallOutput Parse(string text, ToolChoiceMode mode, string? functionName)
    {
        switch (mode)
        {
            case ToolChoiceMode.None:
                return new ToolCallOutput(text, []);
            case ToolChoiceMode.Function:
                return new ToolCallOutput(null, [new ToolCallItem(NewCallId(), functionName!, Compact(text))]);
            case ToolChoiceMode.Required:
                return ParseList(text.Trim(), "parameters") is { Count: > 0 } required ? new ToolCallOutput(null, required) : new ToolCallOutput(text, []);
            default:
                return ParseAuto(text);
        }
    }

    /// <summary>An OpenAI-style call id.</summary>
    public static string NewCallId() => "call_" + Guid.NewGuid().ToString("n")[..24];

    private static ToolCallOutput ParseAuto(string text)
    {
        const string open = "<tool_call>", close = "</tool_call>";
        if (text.Contains(open, StringComparison.Ordinal))
        {
            var calls = new List<ToolCallItem>();
            var content = new System.Text.StringBuilder();
            int pos = 0;
            while (text.IndexOf(open, pos, StringComparison.Ordinal) is int start and >= 0)
            {
                content.Append(text, pos, start - pos);
                int end = text.IndexOf(close, start, StringComparison.Ordinal);
                string body = end < 0 ? text[(start + open.Length)..] : text[(start + open.Length)..end];
                if (Call(body.Trim()) is not { } call)
                    return new ToolCallOutput(text, []);
                calls.Add(call);
                pos = end < 0 ? text.Length : end + close.Length;
            }
            content.Append(text, pos, text.Length - pos);
            string rest = content.ToString().Trim();
            return new ToolCallOutput(rest.Length == 0 ? null : rest, calls);
        }
        string trimmed = text.Trim();
        foreach (string prefix in (ReadOnlySpan<string>)["[TOOL_CALLS]", "<|python_tag|>"])
        {
            if (trimmed.StartsWith(prefix, StringComparison.Ordinal))
                trimmed = trimmed[prefix.Length..].Trim();
        }
        if (trimmed.StartsWith('[') && ParseList(trimmed, "arguments") is { Count: > 0 } list)
            return new ToolCallOutput(null, list);
        if (trimmed.StartsWith('{') && Call(trimmed) is { } single)
            return new ToolCallOutput(null, [single]);
        return new ToolCallOutput(text, []);
    }

    private static List<ToolCallItem>? ParseList(string text, string argumentsKey)
    {
        try
        {
            if (JsonNode.Parse(text) is not JsonArray array)
                return null;
            var calls = new List<ToolCallItem>();
            foreach (var item in array)
            {
                if (item is not JsonObject obj || Call(obj) is not { } call)
                    return null;
                calls.Add(call);
            }
            return calls;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static ToolCallItem? Call(string json)
    {
        try
        {
            return JsonNode.Parse(json) is JsonObject obj ? Call(obj) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary><c>{"name", "arguments" | "parameters"}</c>; arguments given as an object or as a JSON string.</summary>
    private static ToolCallItem? Call(JsonObject obj)
    {
        if (obj["name"] is not JsonValue nameValue || !nameValue.TryGetValue(out string? name) || string.IsNullOrEmpty(name))
            return null;
        var arguments = obj["arguments"] ?? obj["parameters"];
        string text = arguments switch
        {
            null => "{}",
            JsonValue v when v.TryGetValue(out string? s) => s,
            _ => arguments.ToJsonString(),
        };
        return new ToolCallItem(NewCallId(), name, text);
    }

    private static string Compact(string json)
    {
        try
        {
            return JsonNode.Parse(json)?.ToJsonString() ?? json;
        }
        catch (JsonException)
        {
            return json;
        }
    }
}

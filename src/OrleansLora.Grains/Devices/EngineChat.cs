using System.Text.Json;
using OrleansLora.Engine.Constraints;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tokenization;
using OrleansLora.Errors;
using OrleansLora.Generation;

namespace OrleansLora.Grains.Devices;

/// <summary>The wire's chat turns, tools and output constraints in the engine's terms.</summary>
internal static class EngineChat
{
    /// <summary>Renders the conversation (with tools when given) through the model's chat template.</summary>
    public static string Render(ChatTemplate template, IReadOnlyList<ChatMessageItem> messages, string? toolsJson, bool addGenerationPrompt = true)
    {
        var turns = new List<ChatMessage>(messages.Count);
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.Role is not ("system" or "user" or "assistant" or "tool"))
                throw new InvalidRequestException($"message role \"{m.Role}\" is not one of system, user, assistant, tool.", "messages");
            // Content stays a string (empty beside tool calls): simple templates concatenate it.
            turns.Add(new ChatMessage(m.Role, m.Content)
            {
                ToolCalls = m.ToolCalls?.Select(c => new ChatToolCall(c.Id, c.Name, Arguments(c.Arguments, i))).ToList(),
                ToolCallId = m.ToolCallId,
                Name = m.Name,
            });
        }
        return template.Render(turns, Tools(toolsJson), addGenerationPrompt);
    }

    /// <summary>The request's grammar as a per-sequence logits processor, or null for free text.</summary>
    public static ILogitsProcessor? Processor(ITextTokenizer tokenizer, OutputConstraint? constraint, int maxTokens)
    {
        if (constraint is null)
            return null;
        var spec = new GrammarSpec(constraint.Kind switch
        {
            OutputConstraintKind.JsonObject => GrammarKind.JsonObject,
            OutputConstraintKind.JsonSchema => GrammarKind.JsonSchema,
            OutputConstraintKind.Regex => GrammarKind.Regex,
            OutputConstraintKind.Choice => GrammarKind.Choice,
            _ => throw new InvalidRequestException($"unknown output constraint {constraint.Kind}.", "response_format"),
        }, constraint.Text ?? "");
        try
        {
            return TokenGrammarCache.For(tokenizer).CreateProcessor(spec, maxTokens);
        }
        catch (GrammarException e)
        {
            throw new InvalidRequestException(e.Message, "response_format");
        }
    }

    private static List<JsonElement>? Tools(string? toolsJson)
    {
        if (string.IsNullOrEmpty(toolsJson))
            return null;
        try
        {
            using var document = JsonDocument.Parse(toolsJson);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
                throw new InvalidRequestException("tools must be a JSON array.", "tools");
            return document.RootElement.EnumerateArray().Select(t => t.Clone()).ToList();
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException($"tools is not valid JSON: {e.Message}", "tools");
        }
    }

    private static JsonElement Arguments(string arguments, int message)
    {
        try
        {
            using var document = JsonDocument.Parse(arguments);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new InvalidRequestException($"messages[{message}].tool_calls arguments must be JSON.", $"messages[{message}].tool_calls");
        }
    }
}

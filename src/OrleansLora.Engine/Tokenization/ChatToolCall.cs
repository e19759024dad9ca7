using System.Text.Json;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// One tool call of an assistant turn, rendered as <c>{"id", "type": "function", "function": {"name", "arguments"}}</c>.
/// </summary>
/// <param name="Id">The call id (OpenAI's "call_…"); null leaves it out.</param>
/// <param name="Arguments">
/// A JSON object, or OpenAI's JSON-encoded string of one; a string holding a JSON object is
/// decoded first, as vLLM does before rendering, since templates print arguments with tojson.
/// </param>
public sealed record ChatToolCall(string? Id, string Name, JsonElement Arguments);

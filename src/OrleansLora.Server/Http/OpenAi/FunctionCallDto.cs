namespace OrleansLora.Server.Http.OpenAi;

/// <summary>The function part of a tool call: its name and its arguments as a JSON string.</summary>
public sealed record FunctionCallDto(string? Name, string? Arguments);

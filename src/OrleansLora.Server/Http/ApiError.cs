namespace OrleansLora.Server.Http;

/// <summary>The body of an error in OpenAI's shape: <c>{"message", "type", "param", "code"}</c>.</summary>
public sealed record ApiError(string Message, string Type, string? Param, string? Code);

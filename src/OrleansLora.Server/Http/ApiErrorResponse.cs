namespace OrleansLora.Server.Http;

/// <summary>Every error answer of the gateway: <c>{"error": {...}}</c>, as OpenAI sends it.</summary>
public sealed record ApiErrorResponse(ApiError Error);

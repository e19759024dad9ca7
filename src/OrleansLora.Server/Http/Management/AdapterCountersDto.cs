namespace OrleansLora.Server.Http.Management;

/// <summary>An adapter's lifetime counters.</summary>
public sealed record AdapterCountersDto(long Requests, long PromptTokens, long GeneratedTokens, long Errors, long Cancelled);

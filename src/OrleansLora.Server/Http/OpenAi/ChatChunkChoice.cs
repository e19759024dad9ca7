namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A streamed chat choice.</summary>
public sealed record ChatChunkChoice(int Index, ChatDelta Delta, string? FinishReason)
{
    public object? Logprobs => null;
}

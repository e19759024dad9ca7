namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A streamed chat choice.</summary>
public sealed record ChatChunkChoice(int Index, ChatDelta Delta, string? FinishReason)
{
    /// <summary>Null unless the request asked for log-probabilities.</summary>
    public ChatLogprobs? Logprobs { get; init; }
}

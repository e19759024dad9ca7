namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A non-streamed chat choice.</summary>
public sealed record ChatChoice(int Index, ChatMessageDto Message, string? FinishReason)
{
    /// <summary>Null unless the request asked for log-probabilities.</summary>
    public ChatLogprobs? Logprobs { get; init; }
}

namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A non-streamed chat choice.</summary>
public sealed record ChatChoice(int Index, ChatMessageDto Message, string? FinishReason)
{
    public object? Logprobs => null;
}

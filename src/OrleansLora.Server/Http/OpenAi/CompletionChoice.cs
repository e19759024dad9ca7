namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A text completion choice (streamed or not).</summary>
public sealed record CompletionChoice(int Index, string Text, string? FinishReason)
{
    /// <summary>Null unless the request asked for log-probabilities.</summary>
    public CompletionLogprobs? Logprobs { get; init; }
}

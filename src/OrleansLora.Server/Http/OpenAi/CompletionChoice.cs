namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A text completion choice (streamed or not).</summary>
public sealed record CompletionChoice(int Index, string Text, string? FinishReason)
{
    public object? Logprobs => null;
}

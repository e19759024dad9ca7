namespace OrleansLora.Server.Http.OpenAi;

/// <summary>A chat choice's <c>logprobs</c>: one entry per generated token (<c>refusal</c> is always null here).</summary>
public sealed record ChatLogprobs(IReadOnlyList<ChatTokenLogprob> Content)
{
    public IReadOnlyList<ChatTokenLogprob>? Refusal => null;
}

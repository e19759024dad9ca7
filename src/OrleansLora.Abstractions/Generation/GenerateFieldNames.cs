namespace OrleansLora.Generation;

/// <summary>
/// What each <see cref="GenerateRequest"/> field is called on the API a request came in on, so that
/// <see cref="GenerateRequestValidator"/> names the field the caller actually sent.
/// </summary>
public sealed record GenerateFieldNames(
    string Prompt,
    string Messages,
    string MaxTokens,
    string Temperature,
    string TopP,
    string TopK,
    string RepetitionPenalty,
    string PresencePenalty,
    string FrequencyPenalty,
    string Stop,
    string Logprobs,
    string PromptLogprobs)
{
    /// <summary>OpenAI's names, with vLLM's for its extensions: the default, and the .NET client's.</summary>
    public static GenerateFieldNames OpenAi { get; } = new(
        "prompt", "messages", "max_tokens", "temperature", "top_p", "top_k", "repetition_penalty",
        "presence_penalty", "frequency_penalty", "stop", "logprobs", "prompt_logprobs");

    /// <summary>LoRAX's (TGI's) <c>/generate</c> body.</summary>
    public static GenerateFieldNames Lorax { get; } = new(
        "inputs", "inputs", "parameters.max_new_tokens", "parameters.temperature", "parameters.top_p", "parameters.top_k",
        "parameters.repetition_penalty", "parameters.presence_penalty", "parameters.frequency_penalty", "parameters.stop",
        "parameters.top_n_tokens", "parameters.decoder_input_details");
}

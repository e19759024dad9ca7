using OrleansLora.Errors;

namespace OrleansLora.Generation;

/// <summary>
/// The one check of a <see cref="GenerateRequest"/>: the gateway runs it on what each API's body maps to (naming
/// that API's fields), the .NET client before sending, and the worker again before the engine sees it (a client
/// that skipped it gets the same answer). API bodies keep only what their own shape adds (types, refused
/// features, OpenAI's narrower temperature range); every range the engine depends on lives here.
/// </summary>
public static class GenerateRequestValidator
{
    /// <summary>The most alternatives per position (OpenAI's <c>top_logprobs</c> limit).</summary>
    public const int MaxLogprobs = 20;

    private static readonly string[] Roles = ["system", "user", "assistant", "tool"];

    /// <param name="request">The request.</param>
    /// <param name="names">The wire names to report; <see cref="GenerateFieldNames.OpenAi"/> when null.</param>
    /// <param name="maxSequenceLength">The model's context, when known (on the worker): bounds <c>max_tokens</c>.</param>
    /// <exception cref="InvalidRequestException">The first bad field, named.</exception>
    public static void Validate(GenerateRequest request, GenerateFieldNames? names = null, int? maxSequenceLength = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        names ??= GenerateFieldNames.OpenAi;
        Prompt(request, names);
        if (request.MaxTokens < 1 || request.MaxTokens > maxSequenceLength)
            throw new InvalidRequestException(
                maxSequenceLength is { } max
                    ? $"{names.MaxTokens} must be in [1, {max}], got {request.MaxTokens}."
                    : $"{names.MaxTokens} must be >= 1, got {request.MaxTokens}.",
                names.MaxTokens);
        if (!float.IsFinite(request.Temperature) || request.Temperature < 0)
            throw new InvalidRequestException($"{names.Temperature} must be a finite number >= 0, got {request.Temperature}.", names.Temperature);
        if (!float.IsFinite(request.TopP) || request.TopP is <= 0 or > 1)
            throw new InvalidRequestException($"{names.TopP} must be in (0, 1], got {request.TopP}.", names.TopP);
        if (request.TopK < 0)
            throw new InvalidRequestException($"{names.TopK} must be >= 0 (0: off), got {request.TopK}.", names.TopK);
        if (!float.IsFinite(request.RepetitionPenalty) || request.RepetitionPenalty <= 0)
            throw new InvalidRequestException($"{names.RepetitionPenalty} must be a finite number > 0, got {request.RepetitionPenalty}.", names.RepetitionPenalty);
        Penalty(request.PresencePenalty, names.PresencePenalty);
        Penalty(request.FrequencyPenalty, names.FrequencyPenalty);
        Stops(request.Stop, names.Stop);
        if (request.Logprobs is < 0 or > MaxLogprobs)
            throw new InvalidRequestException($"{names.Logprobs} must be in [0, {MaxLogprobs}], got {request.Logprobs}.", names.Logprobs);
        if (request.PromptLogprobs is < 0 or > MaxLogprobs)
            throw new InvalidRequestException($"{names.PromptLogprobs} must be in [0, {MaxLogprobs}], got {request.PromptLogprobs}.", names.PromptLogprobs);
        if (string.IsNullOrEmpty(request.RequestId))
            throw new InvalidRequestException("the request id must not be empty.", "request_id");
    }

    private static void Prompt(GenerateRequest request, GenerateFieldNames names)
    {
        int given = (request.Prompt is not null ? 1 : 0) + (request.Messages is not null ? 1 : 0) + (request.PromptTokenIds is not null ? 1 : 0);
        if (given != 1)
            throw new InvalidRequestException("give exactly one of prompt, messages or prompt token ids.", names.Prompt);
        // An empty text prompt is accepted, as Hugging Face does: it is the tokenizer's BOS token alone, and the
        // engine refuses it only where the tokenizer adds none. An empty list of token ids has nothing to run.
        if (request.PromptTokenIds is { Count: 0 })
            throw new InvalidRequestException("the prompt is an empty list of token ids.", names.Prompt);
        if (request.PromptTokenIds is { } ids)
        {
            for (int i = 0; i < ids.Count; i++)
            {
                if (ids[i] < 0)
                    throw new InvalidRequestException($"token id {ids[i]} at {i} is negative.", names.Prompt);
            }
        }
        if (request.Messages is { } messages)
        {
            if (messages.Count == 0)
                throw new InvalidRequestException($"{names.Messages} must not be empty.", names.Messages);
            for (int i = 0; i < messages.Count; i++)
            {
                var m = messages[i];
                if (m is null)
                    throw new InvalidRequestException($"{names.Messages}[{i}] is null.", $"{names.Messages}[{i}]");
                if (!Roles.Contains(m.Role))
                    throw new InvalidRequestException(
                        $"{names.Messages}[{i}].role \"{m.Role}\" is not one of {string.Join(", ", Roles)}.", $"{names.Messages}[{i}].role");
                if (m.Content is null)
                    throw new InvalidRequestException($"{names.Messages}[{i}].content is null.", $"{names.Messages}[{i}].content");
            }
        }
    }

    private static void Penalty(float value, string name)
    {
        if (!float.IsFinite(value) || value is < -2 or > 2)
            throw new InvalidRequestException($"{name} must be in [-2, 2], got {value}.", name);
    }

    private static void Stops(IReadOnlyList<string>? stop, string name)
    {
        if (stop is null)
            throw new InvalidRequestException($"{name} must be a list (empty for none).", name);
        for (int i = 0; i < stop.Count; i++)
        {
            if (string.IsNullOrEmpty(stop[i]))
                throw new InvalidRequestException($"{name}[{i}] is empty; stop strings must not be empty.", name);
        }
    }
}

using System.Runtime.CompilerServices;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tokenization;
using OrleansLora.Errors;
using OrleansLora.Generation;

namespace OrleansLora.Grains.Devices;

/// <summary>Turns wire requests into engine requests and engine chunks and errors back into wire ones.</summary>
internal static class EngineRequests
{
    public static GenerationRequest ToEngine(InferenceEngine engine, string? adapterId, GenerateRequest request)
    {
        int given = (request.Prompt is not null ? 1 : 0) + (request.Messages is not null ? 1 : 0) + (request.PromptTokenIds is not null ? 1 : 0);
        if (given != 1)
            throw new InvalidRequestException("give exactly one of prompt, messages or prompt token ids.", "prompt");
        if (request.MaxTokens < 1 || request.MaxTokens > engine.MaxSequenceLength)
            throw new InvalidRequestException($"max_tokens must be in [1, {engine.MaxSequenceLength}], got {request.MaxTokens}.", "max_tokens");
        string? prompt = request.Prompt;
        bool addBos = request.AddBos;
        if (request.Messages is { } messages)
        {
            if (messages.Count == 0)
                throw new InvalidRequestException("messages must not be empty.", "messages");
            foreach (var m in messages)
            {
                if (m.Role is not ("system" or "user" or "assistant"))
                    throw new InvalidRequestException($"message role \"{m.Role}\" is not one of system, user, assistant.", "messages");
            }
            var template = engine.Tokenizer.ChatTemplate;
            prompt = template.Render(messages.Select(m => new ChatMessage(m.Role, m.Content)).ToList());
            addBos = !template.IncludesBos;
        }
        if (prompt is not null && prompt.Length == 0)
            throw new InvalidRequestException("the prompt is empty.", "prompt");
        if (request.PromptTokenIds is { Count: 0 })
            throw new InvalidRequestException("the prompt is empty.", "prompt");
        var sampling = new SamplingParams
        {
            Temperature = request.Temperature,
            TopP = request.TopP,
            TopK = request.TopK,
            RepetitionPenalty = request.RepetitionPenalty,
            PresencePenalty = request.PresencePenalty,
            FrequencyPenalty = request.FrequencyPenalty,
            Seed = request.Seed,
            MaxNewTokens = request.MaxTokens,
            StopSequences = request.Stop,
            IgnoreEos = request.IgnoreEos,
        };
        if (request.TopK < 0)
            throw new InvalidRequestException($"top_k must be >= 0, got {request.TopK}.", "top_k");
        try
        {
            sampling.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidRequestException(ex.Message, ToWireName(ex.ParamName));
        }
        return new GenerationRequest
        {
            Prompt = prompt,
            PromptTokens = request.PromptTokenIds,
            AddBos = addBos,
            Sampling = sampling,
            AdapterId = adapterId,
            RequestId = request.RequestId,
        };
    }

    /// <summary>Streams a request on <paramref name="engine"/>; an adapter the engine does not know is <see cref="AdapterNotFoundException"/> at once.</summary>
    public static IAsyncEnumerable<GenerateChunk> Submit(InferenceEngine engine, string? adapterId, GenerateRequest request, CancellationToken cancellationToken)
    {
        if (adapterId is not null && !engine.IsAdapterRegistered(adapterId))
            throw new AdapterNotFoundException(adapterId);
        return Stream(engine, adapterId, request, cancellationToken);
    }

    /// <summary>Streams a request through the engine; engine errors become the wire errors callers act on.</summary>
    private static async IAsyncEnumerable<GenerateChunk> Stream(InferenceEngine engine, string? adapterId, GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        IAsyncEnumerator<GenerationChunk> chunks;
        try
        {
            // Bounded first (a text too long to fit is refused without tokenizing), then the template and tokenizer
            // run off the caller's grain turn when the prompt is long (issue 12, item 10).
            PromptLimits.ThrowIfTooLong(engine, request);
            chunks = await OffTurn.RunAsync(PromptLimits.PreparedChars(request),
                () => engine.GenerateAsync(ToEngine(engine, adapterId, request), cancellationToken).GetAsyncEnumerator(cancellationToken), cancellationToken);
        }
        catch (Exception ex) when (Translate(ex, adapterId) is { } wire)
        {
            throw wire;
        }
        await using (chunks)
        {
            while (true)
            {
                try
                {
                    if (!await chunks.MoveNextAsync())
                        yield break;
                }
                catch (Exception ex) when (Translate(ex, adapterId) is { } wire)
                {
                    throw wire;
                }
                var c = chunks.Current;
                yield return new GenerateChunk(
                    c.TextDelta,
                    c.TokenIds.ToArray(),
                    c.FinishReason switch
                    {
                        FinishReason.Stop => GenerateFinishReason.Stop,
                        FinishReason.Length => GenerateFinishReason.Length,
                        _ => null,
                    },
                    c.Usage is { } u ? new GenerateUsage(u.PromptTokens, u.CompletionTokens, u.Seed) : null);
            }
        }
    }

    private static Exception? Translate(Exception ex, string? adapterId) => ex switch
    {
        OrleansLoraException => null,
        // The adapter's weights were read for a slot and refused (its files changed since registration).
        InvalidOperationException { InnerException: Engine.Models.ModelFormatException or IOException } e when adapterId is not null =>
            new AdapterValidationException(adapterId, e.InnerException!.Message),
        PromptTooLongException p => new ContextLengthExceededException(p.PromptTokens, p.ContextLength),
        EngineOverloadedException o => new ServerBusyException(o.Message),
        ArgumentException a => new InvalidRequestException(a.Message, ToWireName(a.ParamName)),
        _ => null,
    };

    private static string? ToWireName(string? param) => param switch
    {
        null => null,
        "request" => "prompt",
        "Temperature" => "temperature",
        "TopP" => "top_p",
        "TopK" => "top_k",
        "RepetitionPenalty" => "repetition_penalty",
        "PresencePenalty" => "presence_penalty",
        "FrequencyPenalty" => "frequency_penalty",
        "MaxNewTokens" => "max_tokens",
        "StopSequences" => "stop",
        _ => param,
    };
}

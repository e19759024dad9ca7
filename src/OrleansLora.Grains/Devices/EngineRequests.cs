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
        // Again on the worker: the gateway and the .NET client check first, but a caller may skip both.
        GenerateRequestValidator.Validate(request, maxSequenceLength: engine.MaxSequenceLength);
        string? prompt = request.Prompt;
        bool addBos = request.AddBos;
        if (request.Messages is { } messages)
        {
            var template = engine.Tokenizer.ChatTemplate;
            prompt = EngineChat.Render(template, messages, request.Tools);
            addBos = !template.IncludesBos;
        }
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
            Logprobs = request.Logprobs,
            PromptLogprobs = request.PromptLogprobs,
        };
        return new GenerationRequest
        {
            Prompt = prompt,
            PromptTokens = request.PromptTokenIds,
            AddBos = addBos,
            Sampling = sampling,
            AdapterId = adapterId,
            RequestId = request.RequestId,
            PrefixGroup = request.PrefixGroup,
            LogitsProcessor = EngineChat.Processor(engine.Tokenizer, request.Constraint, request.MaxTokens),
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
                var logprobs = c.Logprobs?.Select(l => ToWire(engine.Tokenizer, l)).ToArray();
                var promptLogprobs = c.PromptLogprobs?.Select(l => ToWire(engine.Tokenizer, l)).ToArray();
                yield return new GenerateChunk(
                    c.TextDelta,
                    c.TokenIds.ToArray(),
                    c.FinishReason switch
                    {
                        FinishReason.EndOfSequence => GenerateFinishReason.EndOfSequence,
                        FinishReason.StopSequence => GenerateFinishReason.StopSequence,
                        FinishReason.Length => GenerateFinishReason.Length,
                        FinishReason.Cancelled => GenerateFinishReason.Cancelled,
                        _ => null,
                    },
                    c.Usage is { } u ? new GenerateUsage(u.PromptTokens, u.CompletionTokens, u.Seed) : null) { Logprobs = logprobs, PromptLogprobs = promptLogprobs };
            }
        }
    }

    private static GeneratedLogprobs ToWire(ITextTokenizer tokenizer, SampleLogprobs logprobs)
    {
        LogprobToken Token(TokenLogprob t)
        {
            var piece = TokenPiece.Of(tokenizer, t.TokenId);
            return new LogprobToken(t.TokenId, piece.Text, piece.Bytes, t.Logprob, piece.Special);
        }
        return new GeneratedLogprobs(Token(logprobs.Chosen), logprobs.Top.Select(Token).ToArray());
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
        "Logprobs" => "logprobs",
        "PromptLogprobs" => "prompt_logprobs",
        _ => param,
    };
}

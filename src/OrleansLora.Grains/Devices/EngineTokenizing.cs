using OrleansLora.Engine.Generation;
using OrleansLora.Errors;
using OrleansLora.Generation;

namespace OrleansLora.Grains.Devices;

/// <summary>vLLM's /tokenize and /detokenize on an engine's tokenizer and chat template, as a generation would tokenize.</summary>
internal static class EngineTokenizing
{
    public static async Task<TokenizeResult> TokenizeAsync(InferenceEngine engine, TokenizeQuery query, CancellationToken cancellationToken)
    {
        if ((query.Prompt is null) == (query.Messages is null))
            throw new InvalidRequestException("give exactly one of prompt or messages.", "prompt");
        long chars = (query.Prompt?.Length ?? 0) + (query.Messages?.Sum(m => (long)m.Content.Length + 64) ?? 0) + (query.Tools?.Length ?? 0);
        try
        {
            // A long text is tokenized off the grain's turn, as a generation's prompt is.
            return await OffTurn.RunAsync(chars, () => Tokenize(engine, query), cancellationToken);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidRequestException(ex.Message, query.Messages is null ? "prompt" : "messages");
        }
    }

    private static TokenizeResult Tokenize(InferenceEngine engine, TokenizeQuery query)
    {
        var tokenizer = engine.Tokenizer;
        string text = query.Prompt ?? "";
        bool addSpecial = query.AddSpecialTokens ?? true;
        if (query.Messages is { } messages)
        {
            if (messages.Count == 0)
                throw new InvalidRequestException("messages must not be empty.", "messages");
            var template = tokenizer.ChatTemplate;
            text = EngineChat.Render(template, messages, query.Tools, query.AddGenerationPrompt);
            addSpecial = query.AddSpecialTokens ?? !template.IncludesBos;
        }
        return new TokenizeResult(tokenizer.Encode(text, addSpecial).ToArray(), engine.MaxSequenceLength);
    }

    public static string Detokenize(InferenceEngine engine, IReadOnlyList<int> tokens)
    {
        int vocabulary = engine.Tokenizer.VocabularySize;
        for (int i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] < 0 || tokens[i] >= vocabulary)
                throw new InvalidRequestException($"tokens[{i}] = {tokens[i]} is not a token id of this model's tokenizer (0 to {vocabulary - 1}).", $"tokens[{i}]");
        }
        return engine.Tokenizer.Decode(tokens, skipSpecialTokens: false);
    }
}

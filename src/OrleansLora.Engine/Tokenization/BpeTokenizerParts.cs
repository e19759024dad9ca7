namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// Everything read from tokenizer.json (or vocab.json + merges.txt) before the special-token
/// settings from tokenizer_config.json and config.json are known.
/// </summary>
/// <param name="PostProcessorBos">The special token the tokenizer.json post-processor puts first, if any.</param>
/// <param name="Source">The file the parts came from, for error messages.</param>
internal sealed record BpeTokenizerParts(
    BpeModel Model,
    TextNormalizer? Normalizer,
    PreTokenizerStep? PreTokenizer,
    IReadOnlyList<AddedToken> AddedTokens,
    BpeDecoding Decoding,
    string? PostProcessorBos,
    string Source)
{
    public int? TokenToId(string token)
    {
        foreach (var added in AddedTokens)
        {
            if (added.Content == token)
                return added.Id;
        }
        return Model.TryGetId(token, out int id) ? id : null;
    }
}

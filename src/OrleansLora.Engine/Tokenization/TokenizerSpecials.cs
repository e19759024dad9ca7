namespace OrleansLora.Engine.Tokenization;

/// <summary>What tokenizer_config.json / config.json add on top of the vocabulary.</summary>
/// <param name="BosTokenId">Prepended by <c>Encode(text, addBos: true)</c>; null when the model adds none.</param>
internal sealed record TokenizerSpecials(int? BosTokenId, IReadOnlyList<int> EosTokenIds, ChatTemplate ChatTemplate);

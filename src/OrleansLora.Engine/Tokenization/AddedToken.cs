namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// A token matched literally in the input before normalization and BPE (tokenizer.json
/// <c>added_tokens</c>, tokenizer_config.json <c>added_tokens_decoder</c>).
/// </summary>
/// <param name="Special">Special tokens are dropped by decoding with <c>skipSpecialTokens</c>.</param>
/// <param name="LStrip">Whitespace just before the token belongs to it.</param>
/// <param name="RStrip">Whitespace just after the token belongs to it.</param>
/// <param name="SingleWord">Only matches when not inside a word.</param>
internal sealed record AddedToken(int Id, string Content, bool Special, bool LStrip = false, bool RStrip = false, bool SingleWord = false);

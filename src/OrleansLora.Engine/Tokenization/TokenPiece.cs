namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// One token on its own, as log-probability answers show it: its raw bytes (a byte-level token may hold part
/// of a UTF-8 character), their text (U+FFFD for such a part, as OpenAI shows it) and whether it is a special token.
/// </summary>
public sealed record TokenPiece(string Text, byte[] Bytes, bool Special)
{
    /// <summary>
    /// Token <paramref name="id"/> of <paramref name="tokenizer"/>: the bytes it stands for inside a text
    /// (SentencePiece "▁" as a space) where the tokenizer can show them; special tokens and tokenizers that
    /// cannot show bytes fall back to decoding the id alone.
    /// </summary>
    public static TokenPiece Of(ITextTokenizer tokenizer, int id)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (tokenizer is ITokenByteSource source && source.GetTokenBytes(id) is { } bytes)
            return new TokenPiece(System.Text.Encoding.UTF8.GetString(bytes), bytes, Special: false);
        string text = tokenizer.Decode([id], skipSpecialTokens: false);
        bool special = text.Length > 0 && tokenizer.Decode([id], skipSpecialTokens: true).Length == 0;
        return new TokenPiece(text, System.Text.Encoding.UTF8.GetBytes(text), special);
    }
}

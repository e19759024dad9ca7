namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// The raw bytes each token id stands for, as constrained decoding needs them: a byte-level token may
/// hold part of a UTF-8 character, which <see cref="ITextTokenizer.Decode"/> cannot show.
/// </summary>
internal interface ITokenByteSource
{
    /// <summary>
    /// The bytes of token <paramref name="id"/> as it decodes inside a text (SentencePiece "▁" as a
    /// space); null for special tokens and ids outside the vocabulary, which never stand for text.
    /// </summary>
    byte[]? GetTokenBytes(int id);
}

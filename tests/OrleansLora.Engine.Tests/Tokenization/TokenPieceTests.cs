using System.Text;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Tokenization;

/// <summary>
/// Single tokens as log-probability answers show them, on real tokenizers (SentencePiece with byte fallback,
/// byte-level BPE): the pieces' bytes spell the text exactly, a piece holding part of a character shows U+FFFD,
/// and special tokens are marked.
/// </summary>
public sealed class TokenPieceTests
{
    private const string Text = "Hello world, café crème 🍮 and Rock";

    [Theory]
    [InlineData("llama2")]
    [InlineData("llama3")]
    [InlineData("qwen3")]
    public void Pieces_spell_the_text_byte_for_byte_and_mark_special_tokens(string name)
    {
        var tokenizer = TokenizerLoader.Load(RepositoryFiles.TokenizerPackage(name));
        var ids = tokenizer.Encode(Text, addBos: false);
        var pieces = ids.Select(id => TokenPiece.Of(tokenizer, id)).ToList();

        string spelled = Encoding.UTF8.GetString(pieces.SelectMany(p => p.Bytes).ToArray());
        // SentencePiece marks the start of the text as a word boundary: its first piece is " Hello".
        Assert.Equal(name == "llama2" ? " " + Text : Text, spelled);
        Assert.All(pieces, p => Assert.False(p.Special));
        Assert.All(pieces, p => Assert.Equal(Encoding.UTF8.GetString(p.Bytes), p.Text));
        Assert.Contains(pieces, p => p.Text == " Rock" || p.Text == " R"); // the space is the token's own, not lost
        // The emoji is split over byte tokens in at least one of these vocabularies; such a piece is not a character.
        if (pieces.Any(p => p.Bytes.Length > 0 && !IsValidUtf8(p.Bytes)))
            Assert.Contains(pieces, p => p.Text.Contains('\uFFFD'));

        var eos = TokenPiece.Of(tokenizer, tokenizer.EosTokenIds[0]);
        Assert.True(eos.Special);
        Assert.Equal(tokenizer.Decode([tokenizer.EosTokenIds[0]], skipSpecialTokens: false), eos.Text);
        Assert.Equal(Encoding.UTF8.GetBytes(eos.Text), eos.Bytes);
    }

    private static bool IsValidUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}

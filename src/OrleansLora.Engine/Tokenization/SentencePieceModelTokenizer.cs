using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// A SentencePiece tokenizer.model (Llama-2, Mistral v0.1) through Microsoft.ML.Tokenizers'
/// <see cref="LlamaTokenizer"/>. Added tokens are split out first, as in the Hugging Face slow
/// tokenizer, so each text segment gets SentencePiece's dummy "▁" prefix. Decoding reads the
/// pieces directly (see <see cref="Decode"/>). Thread-safe.
/// </summary>
internal sealed class SentencePieceModelTokenizer : ITextTokenizer, ITokenByteSource
{
    private readonly LlamaTokenizer _inner;
    private readonly AddedTokenMatcher _matcher;
    private readonly Dictionary<int, AddedToken> _addedById = new();
    private readonly int _innerCount;
    private readonly string?[] _pieces;
    private readonly int[] _byteValue;

    private const char Marker = '\u2581';

    public SentencePieceModelTokenizer(LlamaTokenizer inner, IEnumerable<AddedToken> addedTokens, TokenizerSpecials specials)
    {
        _inner = inner;
        _innerCount = inner.Vocabulary.Values.DefaultIfEmpty(-1).Max() + 1;
        _pieces = new string?[_innerCount];
        _byteValue = new int[_innerCount];
        Array.Fill(_byteValue, -1);
        foreach (var (piece, id) in inner.Vocabulary)
        {
            _pieces[id] = piece;
            if (inner.ByteFallback && piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
                && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte value))
            {
                _byteValue[id] = value;
            }
        }
        foreach (var token in addedTokens)
            _addedById[token.Id] = token;
        _matcher = new AddedTokenMatcher(_addedById.Values);
        BosTokenId = specials.BosTokenId;
        EosTokenIds = specials.EosTokenIds;
        ChatTemplate = specials.ChatTemplate;
        VocabularySize = Math.Max(_innerCount, _addedById.Count == 0 ? 0 : _addedById.Keys.Max() + 1);
    }

    public int VocabularySize { get; }

    public int? BosTokenId { get; }

    public IReadOnlyList<int> EosTokenIds { get; }

    public ChatTemplate ChatTemplate { get; }

    /// <summary>Id of a piece or added token, for resolving tokenizer_config.json names.</summary>
    public static int? TokenToId(LlamaTokenizer inner, IEnumerable<AddedToken> addedTokens, string token)
    {
        foreach (var added in addedTokens)
        {
            if (added.Content == token)
                return added.Id;
        }
        return inner.Vocabulary.TryGetValue(token, out int id) ? id : null;
    }

    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 2);
        if (addBos && BosTokenId is int bos)
            ids.Add(bos);
        foreach (var segment in _matcher.Split(text))
        {
            if (segment.Token is AddedToken token)
                ids.Add(token.Id);
            else
                ids.AddRange(_inner.EncodeToIds(text.AsSpan(segment.Start, segment.Length), addBeginningOfSentence: false, addEndOfSentence: false));
        }
        return ids;
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        // Decoded here rather than by LlamaTokenizer.Decode, which drops the "▁" of the first word
        // piece even after byte pieces; that makes a decode of a window differ from the same ids
        // inside a longer decode, which streaming relies on. This is the Hugging Face Llama decoder:
        // "▁" to space, <0xNN> to bytes, the first token's leading "▁" removed.
        var bytes = new List<byte>();
        bool first = true;
        foreach (int id in ids)
        {
            string? token;
            if (_addedById.TryGetValue(id, out var added))
            {
                if (skipSpecialTokens && added.Special)
                    continue;
                token = added.Content;
            }
            else
            {
                token = (uint)id < (uint)_pieces.Length ? _pieces[id] : null;
                if (token is null)
                    continue;
                if (_byteValue[id] >= 0)
                {
                    bytes.Add((byte)_byteValue[id]);
                    first = false;
                    continue;
                }
            }
            if (first && _inner.AddDummyPrefix && token.StartsWith(Marker))
                token = token[1..];
            bytes.AddRange(Encoding.UTF8.GetBytes(token.Replace(Marker, ' ')));
            first = false;
        }
        return Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(bytes));
    }

    public byte[]? GetTokenBytes(int id)
    {
        if (_addedById.TryGetValue(id, out var added))
            return added.Special ? null : Encoding.UTF8.GetBytes(added.Content);
        string? piece = (uint)id < (uint)_pieces.Length ? _pieces[id] : null;
        if (piece is null)
            return null;
        if (_byteValue[id] >= 0)
            return [(byte)_byteValue[id]];
        // Control pieces (<unk>, <s>, </s>) are not text.
        if (id == _inner.BeginningOfSentenceId || id == _inner.EndOfSentenceId || id == _inner.UnknownId)
            return null;
        return Encoding.UTF8.GetBytes(piece.Replace(Marker, ' '));
    }
}

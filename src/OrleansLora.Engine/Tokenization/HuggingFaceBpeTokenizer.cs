using System.Runtime.InteropServices;
using System.Text;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// A Hugging Face BPE tokenizer (tokenizer.json, or vocab.json + merges.txt): added tokens are
/// matched first, each plain segment is normalized, pre-tokenized and BPE-encoded; decoding maps
/// tokens back to bytes (byte-level or "▁" + &lt;0xNN&gt; byte fallback). Thread-safe.
/// </summary>
internal sealed class HuggingFaceBpeTokenizer : ITextTokenizer, ITokenByteSource
{
    private readonly BpeTokenizerParts _parts;
    private readonly AddedTokenMatcher _matcher;
    private readonly Dictionary<int, AddedToken> _addedById;
    private readonly int[] _byteFallbackValue;

    public HuggingFaceBpeTokenizer(BpeTokenizerParts parts, TokenizerSpecials specials)
    {
        _parts = parts;
        _addedById = new Dictionary<int, AddedToken>();
        foreach (var token in parts.AddedTokens)
            _addedById[token.Id] = token;
        _matcher = new AddedTokenMatcher(_addedById.Values);
        BosTokenId = specials.BosTokenId;
        EosTokenIds = specials.EosTokenIds;
        ChatTemplate = specials.ChatTemplate;
        VocabularySize = Math.Max(parts.Model.Count, _addedById.Count == 0 ? 0 : _addedById.Keys.Max() + 1);

        // Byte value of each "<0xNN>" token id, so decoding needs no string parsing.
        _byteFallbackValue = new int[parts.Model.Count];
        Array.Fill(_byteFallbackValue, -1);
        if (parts.Decoding.ByteFallback)
        {
            for (int b = 0; b < 256; b++)
            {
                if (parts.Model.TryGetId($"<0x{b:X2}>", out int id))
                    _byteFallbackValue[id] = b;
            }
        }
    }

    public int VocabularySize { get; }

    public int? BosTokenId { get; }

    public IReadOnlyList<int> EosTokenIds { get; }

    public ChatTemplate ChatTemplate { get; }

    public IReadOnlyList<int> Encode(string text, bool addBos)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 2);
        if (addBos && BosTokenId is int bos)
            ids.Add(bos);
        foreach (var segment in _matcher.Split(text))
        {
            if (segment.Token is AddedToken token)
            {
                ids.Add(token.Id);
                continue;
            }
            string plain = text.Substring(segment.Start, segment.Length);
            if (_parts.Normalizer is TextNormalizer normalizer)
                plain = normalizer.Normalize(plain);
            List<PreTokenizerStep.Piece> pieces = [new(plain, segment.Start == 0)];
            if (_parts.PreTokenizer is PreTokenizerStep preTokenizer)
                pieces = preTokenizer.Run(pieces);
            foreach (var piece in pieces)
                _parts.Model.EncodeWord(piece.Text, ids);
        }
        return ids;
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var decoding = _parts.Decoding;
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
                // Ids the vocabulary lacks (embedding rows padded past it) decode to nothing, as in
                // Hugging Face, rather than failing a whole stream.
                token = _parts.Model.IdToToken(id);
                if (token is null)
                    continue;
                if (_byteFallbackValue[id] >= 0)
                {
                    bytes.Add((byte)_byteFallbackValue[id]);
                    first = false;
                    continue;
                }
            }

            if (decoding.ByteLevel)
            {
                ByteLevelAlphabet.AppendBytes(token, bytes);
            }
            else if (decoding.Marker is char marker)
            {
                if (first && decoding.StripFirstMarker && token.Length > 0 && token[0] == marker)
                    token = token[1..];
                bytes.AddRange(Encoding.UTF8.GetBytes(token.Replace(marker, ' ')));
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
            }
            first = false;
        }

        string text = Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(bytes));
        int strip = 0;
        while (strip < decoding.StripLeadingSpaces && strip < text.Length && text[strip] == ' ')
            strip++;
        return strip == 0 ? text : text[strip..];
    }

    public byte[]? GetTokenBytes(int id)
    {
        if (_addedById.TryGetValue(id, out var added))
            return added.Special ? null : Encoding.UTF8.GetBytes(added.Content);
        string? token = _parts.Model.IdToToken(id);
        if (token is null)
            return null;
        if (_byteFallbackValue[id] >= 0)
            return [(byte)_byteFallbackValue[id]];
        if (_parts.Decoding.ByteLevel)
        {
            var bytes = new List<byte>(token.Length);
            ByteLevelAlphabet.AppendBytes(token, bytes);
            return bytes.ToArray();
        }
        return Encoding.UTF8.GetBytes(_parts.Decoding.Marker is char marker ? token.Replace(marker, ' ') : token);
    }
}

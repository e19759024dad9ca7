namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// Streams the text of one generated sequence token by token (vLLM's prefix/read offset scheme).
/// Each step decodes only a small window: the tokens of the previous delta as context, plus the
/// tokens not yet released. Context matters because decoding is not per-token: SentencePiece drops
/// the "▁" space of the first token of a decode, and byte-level tokens may carry part of a
/// character. Text ending in U+FFFD is held back until the character completes, so no delta
/// contains a broken character; concatenated deltas plus <see cref="Flush"/> equal
/// <see cref="ITextTokenizer.Decode"/> of all appended ids. Not thread-safe: one per sequence.
/// </summary>
public sealed class IncrementalDetokenizer
{
    // A UTF-8 character has at most 4 bytes, so at most 3 tokens of an unfinished character can be
    // pending; a U+FFFD still there after this many tokens comes from invalid bytes and is released.
    private const int MaxHeldTokens = 8;

    // Tokens that decode to nothing (skipped special tokens) stay as context; a long run of them is
    // dropped so the window, and the cost per token, stays bounded.
    private const int MaxWindowTokens = 32;

    // vLLM's INITIAL_INCREMENTAL_DETOKENIZATION_OFFSET: prompt tokens used as context.
    private const int PromptContextTokens = 5;

    private readonly ITextTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;

    // _window[0.._readOffset] is context already released (decoding to _prefixText);
    // _window[_readOffset..] is held back.
    private readonly List<int> _window = [];
    private int _readOffset;
    private string _prefixText = "";

    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="promptIds">
    /// The prompt, whose last tokens become context so the first generated token keeps its leading
    /// space (" Hello" after a SentencePiece prompt). Without it deltas equal
    /// <c>Decode(generated ids)</c>, which drops that space as Hugging Face does.
    /// </param>
    /// <param name="skipSpecialTokens">Passed to <see cref="ITextTokenizer.Decode"/>.</param>
    public IncrementalDetokenizer(ITextTokenizer tokenizer, IReadOnlyList<int>? promptIds = null, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
        if (promptIds is { Count: > 0 })
        {
            for (int i = Math.Max(0, promptIds.Count - PromptContextTokens); i < promptIds.Count; i++)
                _window.Add(promptIds[i]);
            _readOffset = _window.Count;
            _prefixText = Decode(0, _window.Count);
        }
    }

    /// <summary>Adds a generated token and returns the text it releases (often empty mid-character).</summary>
    public string Append(int tokenId)
    {
        _window.Add(tokenId);
        string text = Decode(0, _window.Count);
        if (text.EndsWith('\uFFFD') && _window.Count - _readOffset < MaxHeldTokens)
            return "";
        return Release(text);
    }

    /// <summary>Returns whatever is still held back (an unfinished character decodes as U+FFFD).</summary>
    public string Flush()
    {
        if (_readOffset == _window.Count)
            return "";
        return Release(Decode(0, _window.Count));
    }

    private string Release(string text)
    {
        string delta = text.Length > _prefixText.Length ? text[_prefixText.Length..] : "";
        string released = Decode(_readOffset, _window.Count - _readOffset);
        if (released.Length > 0)
        {
            // The released tokens become the next step's context.
            _window.RemoveRange(0, _readOffset);
            _prefixText = released;
        }
        else if (_window.Count > MaxWindowTokens)
        {
            _window.RemoveRange(_readOffset, _window.Count - _readOffset);
        }
        else
        {
            // Nothing visible was released ("▁" at the start of a decode, skipped special tokens):
            // keep the old context too, since a lone such token decodes differently from in place.
            _prefixText = text;
        }
        _readOffset = _window.Count;
        return delta;
    }

    private string Decode(int start, int count) =>
        count == 0 ? "" : _tokenizer.Decode(_window.GetRange(start, count), _skipSpecialTokens);
}

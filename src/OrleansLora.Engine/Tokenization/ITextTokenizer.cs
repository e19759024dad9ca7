namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// The engine's view of a tokenizer: ids in, ids out, plus the special tokens generation needs.
/// Implementations (made by <see cref="TokenizerLoader"/>) are thread-safe: Hugging Face BPE
/// (tokenizer.json, vocab.json + merges.txt) and SentencePiece (tokenizer.model through
/// Microsoft.ML.Tokenizers).
/// </summary>
public interface ITextTokenizer
{
    /// <summary>Number of ids the tokenizer can produce (base vocabulary plus added tokens).</summary>
    int VocabularySize { get; }

    /// <summary>Id prepended to prompts when the model expects one (Llama: &lt;s&gt;), else null.</summary>
    int? BosTokenId { get; }

    /// <summary>Ids that end generation (tokenizer_config/config eos; may be several).</summary>
    IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>The model's chat template (<see cref="ChatTemplate.None"/> when it has none).</summary>
    ChatTemplate ChatTemplate { get; }

    /// <summary>Encodes text; special tokens written literally in the text (e.g. "&lt;|im_start|&gt;") map to their ids.</summary>
    /// <param name="addBos">
    /// Prepend <see cref="BosTokenId"/> when the tokenizer has one. Pass false for text rendered by a
    /// <see cref="ChatTemplate"/> whose <see cref="ChatTemplate.IncludesBos"/> is true.
    /// </param>
    IReadOnlyList<int> Encode(string text, bool addBos);

    /// <summary>
    /// Decodes ids to text. Incomplete UTF-8 at the end appears as U+FFFD (stream with
    /// <see cref="IncrementalDetokenizer"/> instead). Ids outside the vocabulary decode to nothing.
    /// </summary>
    string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true);
}

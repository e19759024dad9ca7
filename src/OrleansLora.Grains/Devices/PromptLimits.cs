using System.Runtime.CompilerServices;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Tokenization;
using OrleansLora.Errors;
using OrleansLora.Generation;

namespace OrleansLora.Grains.Devices;

/// <summary>
/// The longest prompt text worth tokenizing: a prompt longer than <see cref="MaxPromptChars"/> cannot fit in the
/// context, so it is refused (413) before any tokenizer work. Without this bound a 10 MB prompt was tokenized in
/// full (10-31 s, 2.6 GB) only to be refused for its token count.
/// </summary>
internal static class PromptLimits
{
    /// <summary>
    /// Characters a composed character can stand for before Unicode normalization: NFC/NFKC normalizers (Qwen's,
    /// for example) compose at most 4 code points into one (the longest canonical decompositions, such as
    /// U+1F82 = α + ◌̓ + ◌̀ + ◌ͅ, have 4).
    /// </summary>
    private const int NormalizationSlack = 4;

    private static readonly ConditionalWeakTable<ITextTokenizer, StrongBox<int>> LongestToken = new();

    /// <summary>
    /// The most characters a prompt can have and still fit in <paramref name="engine"/>'s context.
    /// Why it never refuses a prompt that fits: every prompt token stands for one contiguous run of the
    /// (normalized) text, at most L + 1 characters long, where L is the longest text any token id decodes to
    /// (special tokens included; the +1 is SentencePiece's word-boundary "▁" that decoding a lone first token
    /// drops; a byte-level token holding part of a character decodes to U+FFFD, a character for less than one).
    /// So a text of c characters has at least c / (L + 1) tokens, and one that fits (fewer than the context
    /// length N tokens) has fewer than N · (L + 1) characters after normalization; composition can shrink the
    /// text at most <see cref="NormalizationSlack"/>-fold, hence N · (L + 1) · 4 before it. Only tokenizers that
    /// delete input outright (stripped or collapsed whitespace runs, fused unknown characters) could fit a longer
    /// text, and only one that is mostly such runs; the served ones (byte-level BPE, SentencePiece with byte
    /// fallback) delete nothing. GPT-2's tokenizer (L = 66) and the tiny model's 1024 positions give 274,432
    /// characters: a few seconds of tokenizing at worst, done off the grain's turn (<see cref="OffTurn"/>).
    /// </summary>
    public static long MaxPromptChars(InferenceEngine engine) =>
        (long)engine.MaxSequenceLength * (LongestTokenChars(engine.Tokenizer) + 1) * NormalizationSlack;

    /// <summary>The longest text (UTF-16 chars) one token id decodes to; computed once per tokenizer (a pass over the vocabulary).</summary>
    public static int LongestTokenChars(ITextTokenizer tokenizer) =>
        LongestToken.GetValue(tokenizer, static t =>
        {
            int longest = 1;
            var one = new int[1];
            for (int id = 0; id < t.VocabularySize; id++)
            {
                one[0] = id;
                longest = Math.Max(longest, t.Decode(one, skipSpecialTokens: false).Length);
            }
            return new StrongBox<int>(longest);
        }).Value;

    /// <summary>The characters of the request's prompt text: the prompt, or the messages' contents (the template adds its own).</summary>
    public static long PromptChars(GenerateRequest request) =>
        request.Prompt?.Length ?? request.Messages?.Sum(m => (long)(m.Content?.Length ?? 0)) ?? 0;

    /// <summary>
    /// How much text preparing the prompt handles: its characters plus, per message, a template's role markers and
    /// separators (a generous 64), so that a request of many empty messages is not mistaken for a short one.
    /// </summary>
    public static long PreparedChars(GenerateRequest request) => PromptChars(request) + 64L * (request.Messages?.Count ?? 0);

    /// <summary>
    /// Refuses, in O(messages), a prompt that cannot fit (413) before anything renders or tokenizes it: text longer
    /// than <see cref="MaxPromptChars"/>, or as many messages as the context has positions (every chat template
    /// here gives each message at least one token: its role marker, or a separator).
    /// </summary>
    public static void ThrowIfTooLong(InferenceEngine engine, GenerateRequest request)
    {
        if (request.Messages is { } messages && messages.Count >= engine.MaxSequenceLength)
            throw ContextLengthExceededException.ForMessages(messages.Count, engine.MaxSequenceLength);
        long chars = PromptChars(request);
        long max = MaxPromptChars(engine);
        if (chars > max)
            throw ContextLengthExceededException.ForCharacters(chars, max, engine.MaxSequenceLength);
    }
}

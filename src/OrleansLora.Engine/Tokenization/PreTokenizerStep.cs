using System.Text.RegularExpressions;

namespace OrleansLora.Engine.Tokenization;

/// <summary>How a split pattern's matches join the surrounding text (tokenizer.json <c>behavior</c>).</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// <summary>Metaspace <c>prepend_scheme</c>: where the "▁" word marker is prepended.</summary>
internal enum PrependScheme
{
    Always,
    First,
    Never,
}

/// <summary>
/// A tokenizer.json <c>pre_tokenizer</c>: splits normalized text into the words BPE runs on, with
/// the semantics of the Hugging Face implementation (ByteLevel, Split, Metaspace, Digits, Sequence).
/// </summary>
internal abstract class PreTokenizerStep
{
    /// <summary>GPT-2's word pattern (also the ByteLevel pre-tokenizer's when <c>use_regex</c> is set).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly Regex Gpt2Regex = new(Gpt2Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>A word in progress; <see cref="AtStart"/> marks text that begins the whole input.</summary>
    public readonly record struct Piece(string Text, bool AtStart);

    public abstract void Apply(Piece piece, List<Piece> output);

    public List<Piece> Run(List<Piece> pieces)
    {
        var output = new List<Piece>(pieces.Count);
        foreach (var piece in pieces)
            Apply(piece, output);
        return output;
    }

    public sealed class Sequence(IReadOnlyList<PreTokenizerStep> steps) : PreTokenizerStep
    {
        public override void Apply(Piece piece, List<Piece> output)
        {
            List<Piece> pieces = [piece];
            foreach (var step in steps)
                pieces = step.Run(pieces);
            output.AddRange(pieces);
        }
    }

    /// <summary>Optionally splits with the GPT-2 pattern, then maps every word to byte-level characters.</summary>
    public sealed class ByteLevel(bool addPrefixSpace, bool useRegex) : PreTokenizerStep
    {
        public override void Apply(Piece piece, List<Piece> output)
        {
            string text = addPrefixSpace && !piece.Text.StartsWith(' ') ? " " + piece.Text : piece.Text;
            var words = new List<Piece>();
            if (useRegex)
                SplitOnPattern(new Piece(text, piece.AtStart), Gpt2Regex, SplitBehavior.Isolated, invert: false, words);
            else
                words.Add(new Piece(text, piece.AtStart));
            foreach (var word in words)
                output.Add(word with { Text = ByteLevelAlphabet.EncodeText(word.Text) });
        }
    }

    public sealed class SplitPattern(Regex pattern, SplitBehavior behavior, bool invert) : PreTokenizerStep
    {
        public override void Apply(Piece piece, List<Piece> output) => SplitOnPattern(piece, pattern, behavior, invert, output);
    }

    /// <summary>Replaces spaces by the marker, prepends it per <see cref="PrependScheme"/>, optionally splits before each marker.</summary>
    public sealed class Metaspace(char replacement, PrependScheme scheme, bool split) : PreTokenizerStep
    {
        private readonly Regex _marker = new(Regex.Escape(replacement.ToString()), RegexOptions.CultureInvariant);

        public override void Apply(Piece piece, List<Piece> output)
        {
            string text = piece.Text.Replace(' ', replacement);
            bool prepend = scheme == PrependScheme.Always || (scheme == PrependScheme.First && piece.AtStart);
            if (prepend && !text.StartsWith(replacement))
                text = replacement + text;
            if (!split)
            {
                output.Add(piece with { Text = text });
                return;
            }
            SplitOnPattern(piece with { Text = text }, _marker, SplitBehavior.MergedWithNext, invert: false, output);
        }
    }

    public sealed class Digits(bool individual) : PreTokenizerStep
    {
        private static readonly Regex One = new(@"\p{Nd}", RegexOptions.Compiled | RegexOptions.CultureInvariant);
        private static readonly Regex Many = new(@"\p{Nd}+", RegexOptions.Compiled | RegexOptions.CultureInvariant);

        public override void Apply(Piece piece, List<Piece> output) =>
            SplitOnPattern(piece, individual ? One : Many, SplitBehavior.Isolated, invert: false, output);
    }

    /// <summary>Hugging Face <c>NormalizedString::split</c> over a pattern's matches.</summary>
    private static void SplitOnPattern(Piece piece, Regex pattern, SplitBehavior behavior, bool invert, List<Piece> output)
    {
        string text = piece.Text;
        var spans = new List<(int Start, int End, bool IsMatch)>();
        int previous = 0;
        foreach (Match m in pattern.Matches(text))
        {
            if (m.Length == 0)
                continue;
            if (m.Index > previous)
                spans.Add((previous, m.Index, invert));
            spans.Add((m.Index, m.Index + m.Length, !invert));
            previous = m.Index + m.Length;
        }
        if (previous < text.Length)
            spans.Add((previous, text.Length, invert));

        var merged = new List<(int Start, int End, bool IsMatch)>(spans.Count);
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                merged.AddRange(spans);
                break;
            case SplitBehavior.Removed:
                merged.AddRange(spans.Where(s => !s.IsMatch));
                break;
            case SplitBehavior.Contiguous:
                foreach (var s in spans)
                {
                    if (s.IsMatch && merged.Count > 0 && merged[^1].IsMatch)
                        merged[^1] = (merged[^1].Start, s.End, true);
                    else
                        merged.Add(s);
                }
                break;
            case SplitBehavior.MergedWithPrevious:
            {
                bool previousMatch = false;
                foreach (var s in spans)
                {
                    if (s.IsMatch && !previousMatch && merged.Count > 0)
                        merged[^1] = (merged[^1].Start, s.End, false);
                    else
                        merged.Add((s.Start, s.End, false));
                    previousMatch = s.IsMatch;
                }
                break;
            }
            case SplitBehavior.MergedWithNext:
            {
                bool previousMatch = false;
                for (int i = spans.Count - 1; i >= 0; i--)
                {
                    var s = spans[i];
                    if (s.IsMatch && !previousMatch && merged.Count > 0)
                        merged[^1] = (s.Start, merged[^1].End, false);
                    else
                        merged.Add((s.Start, s.End, false));
                    previousMatch = s.IsMatch;
                }
                merged.Reverse();
                break;
            }
        }

        foreach (var (start, end, _) in merged)
        {
            if (end > start)
                output.Add(new Piece(text[start..end], piece.AtStart && start == 0));
        }
    }
}

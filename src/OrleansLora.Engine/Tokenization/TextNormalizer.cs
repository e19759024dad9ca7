using System.Text;
using System.Text.RegularExpressions;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// A tokenizer.json <c>normalizer</c>, applied to each plain segment between added tokens (as
/// Hugging Face does, which is why Llama-2's Prepend("▁") also marks text after "&lt;s&gt;").
/// </summary>
internal abstract class TextNormalizer
{
    public abstract string Normalize(string text);

    public sealed class Sequence(IReadOnlyList<TextNormalizer> steps) : TextNormalizer
    {
        public override string Normalize(string text)
        {
            foreach (var step in steps)
                text = step.Normalize(text);
            return text;
        }
    }

    /// <summary>Prepends to non-empty text only.</summary>
    public sealed class Prepend(string prefix) : TextNormalizer
    {
        public override string Normalize(string text) => text.Length == 0 ? text : prefix + text;
    }

    public sealed class ReplaceText(string pattern, string content) : TextNormalizer
    {
        public override string Normalize(string text) => text.Replace(pattern, content, StringComparison.Ordinal);
    }

    public sealed class ReplaceRegex(Regex pattern, string content) : TextNormalizer
    {
        public override string Normalize(string text) => pattern.Replace(text, content);
    }

    /// <summary>NFC/NFD/NFKC/NFKD by the engine's own tables: string.Normalize does nothing under InvariantGlobalization.</summary>
    public sealed class Unicode(NormalizationForm form) : TextNormalizer
    {
        public override string Normalize(string text) => Tokenization.Unicode.UnicodeNormalizer.Normalize(text, form);
    }

    public sealed class Lowercase : TextNormalizer
    {
        public override string Normalize(string text) => text.ToLowerInvariant();
    }

    public sealed class Strip(bool left, bool right) : TextNormalizer
    {
        public override string Normalize(string text) => (left, right) switch
        {
            (true, true) => text.Trim(),
            (true, false) => text.TrimStart(),
            (false, true) => text.TrimEnd(),
            _ => text,
        };
    }
}

using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using OrleansLora.Engine.Models;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// Reads a Hugging Face tokenizer.json with a BPE model: byte-level (GPT-2, Llama-3, Qwen) and
/// SentencePiece-style (Metaspace or Prepend/Replace normalizer with byte fallback: Llama-2, Mistral).
/// </summary>
internal static class TokenizerJsonReader
{
    public static BpeTokenizerParts Read(string path)
    {
        using var document = JsonFields.Parse(path);
        var root = JsonFields.RootObject(document, path);
        if (JsonFields.Get(root, "model") is not JsonElement model)
            throw new ModelFormatException(path, "has no \"model\".");

        var bpe = ReadModel(model, path);
        var added = JsonFields.Array(root, "added_tokens", path).Select(t => ReadAddedToken(t, path)).ToList();
        var normalizer = JsonFields.Get(root, "normalizer") is JsonElement n ? ReadNormalizer(n, path) : null;
        var preTokenizerJson = JsonFields.Get(root, "pre_tokenizer");
        var preTokenizer = preTokenizerJson is JsonElement p ? ReadPreTokenizer(p, path) : null;
        // Without a decoder, byte-level tokens still need mapping back to bytes to be readable.
        var decoding = JsonFields.Get(root, "decoder") is JsonElement d
            ? ReadDecoder(d, path)
            : preTokenizerJson?.GetRawText().Contains("\"ByteLevel\"", StringComparison.Ordinal) == true
                ? BpeDecoding.ByteLevelDecoding
                : BpeDecoding.Raw;
        string? bos = JsonFields.Get(root, "post_processor") is JsonElement post ? LeadingSpecialToken(post, path) : null;
        return new BpeTokenizerParts(bpe, normalizer, preTokenizer, added, decoding, bos, path);
    }

    private static BpeModel ReadModel(JsonElement model, string path)
    {
        string type = JsonFields.Get(model, "type") is null ? "BPE" : JsonFields.Type(model, "model", path);
        if (type != "BPE")
            throw new ModelFormatException(path, $"model.type \"{type}\" is not supported; only \"BPE\" tokenizers can be loaded.");
        foreach (string affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (!string.IsNullOrEmpty(JsonFields.String(model, affix, path)))
                throw new ModelFormatException(path, $"model.{affix} is not supported.");
        }

        if (JsonFields.Get(model, "vocab") is not JsonElement vocabJson || vocabJson.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, "model.vocab must be an object of token to id.");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabJson.EnumerateObject())
            vocab[entry.Name] = JsonFields.Int(entry.Value, $"model.vocab[\"{entry.Name}\"]", path);

        var merges = new List<(string, string)>();
        int index = 0;
        foreach (var merge in JsonFields.Array(model, "merges", path))
        {
            merges.Add(ReadMerge(merge, index++, path));
        }

        return new BpeModel(
            vocab,
            merges,
            JsonFields.String(model, "unk_token", path),
            JsonFields.Bool(model, "fuse_unk", false, path),
            JsonFields.Bool(model, "byte_fallback", false, path),
            JsonFields.Bool(model, "ignore_merges", false, path),
            path);
    }

    /// <summary>A merge is "left right" (tokenizers before 0.20) or ["left", "right"].</summary>
    private static (string, string) ReadMerge(JsonElement merge, int index, string path)
    {
        if (merge.ValueKind == JsonValueKind.String)
        {
            string line = merge.GetString()!;
            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                throw new ModelFormatException(path, $"model.merges[{index}] \"{line}\" is not two tokens separated by one space.");
            return (line[..space], line[(space + 1)..]);
        }
        if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
            && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
        {
            return (merge[0].GetString()!, merge[1].GetString()!);
        }
        throw new ModelFormatException(path, $"model.merges[{index}] must be \"left right\" or [\"left\", \"right\"].");
    }

    internal static AddedToken ReadAddedToken(JsonElement token, string path)
    {
        if (JsonFields.Get(token, "id") is not JsonElement id)
            throw new ModelFormatException(path, "an added_tokens entry has no \"id\".");
        string content = JsonFields.String(token, "content", path)
            ?? throw new ModelFormatException(path, "an added_tokens entry has no \"content\".");
        return new AddedToken(
            JsonFields.Int(id, $"added token \"{content}\" id", path),
            content,
            JsonFields.Bool(token, "special", false, path),
            JsonFields.Bool(token, "lstrip", false, path),
            JsonFields.Bool(token, "rstrip", false, path),
            JsonFields.Bool(token, "single_word", false, path));
    }

    private static TextNormalizer ReadNormalizer(JsonElement n, string path)
    {
        string type = JsonFields.Type(n, "normalizer", path);
        return type switch
        {
            "Sequence" => new TextNormalizer.Sequence(JsonFields.Array(n, "normalizers", path).Select(x => ReadNormalizer(x, path)).ToList()),
            "Prepend" => new TextNormalizer.Prepend(JsonFields.String(n, "prepend", path) ?? ""),
            "Replace" => ReadReplace(n, path),
            "NFC" => new TextNormalizer.Unicode(NormalizationForm.FormC),
            "NFD" => new TextNormalizer.Unicode(NormalizationForm.FormD),
            "NFKC" => new TextNormalizer.Unicode(NormalizationForm.FormKC),
            "NFKD" => new TextNormalizer.Unicode(NormalizationForm.FormKD),
            "Lowercase" => new TextNormalizer.Lowercase(),
            "Strip" => new TextNormalizer.Strip(JsonFields.Bool(n, "strip_left", true, path), JsonFields.Bool(n, "strip_right", true, path)),
            _ => throw new ModelFormatException(path, $"normalizer type \"{type}\" is not supported."),
        };
    }

    private static TextNormalizer ReadReplace(JsonElement n, string path)
    {
        string content = JsonFields.String(n, "content", path) ?? "";
        return ReadPattern(n, path) switch
        {
            (string text, _) => new TextNormalizer.ReplaceText(text, content),
            (_, Regex regex) => new TextNormalizer.ReplaceRegex(regex, content),
            _ => throw new ModelFormatException(path, "a Replace normalizer has an empty pattern."),
        };
    }

    private static PreTokenizerStep ReadPreTokenizer(JsonElement p, string path)
    {
        string type = JsonFields.Type(p, "pre_tokenizer", path);
        switch (type)
        {
            case "Sequence":
                return new PreTokenizerStep.Sequence(JsonFields.Array(p, "pretokenizers", path).Select(x => ReadPreTokenizer(x, path)).ToList());
            case "ByteLevel":
                return new PreTokenizerStep.ByteLevel(JsonFields.Bool(p, "add_prefix_space", true, path), JsonFields.Bool(p, "use_regex", true, path));
            case "Split":
            {
                var (text, regex) = ReadPattern(p, path);
                regex ??= new Regex(Regex.Escape(text!), RegexOptions.CultureInvariant);
                return new PreTokenizerStep.SplitPattern(regex, ReadBehavior(p, path), JsonFields.Bool(p, "invert", false, path));
            }
            case "Metaspace":
                return new PreTokenizerStep.Metaspace(ReadReplacement(p, path), ReadPrependScheme(p, path), JsonFields.Bool(p, "split", true, path));
            case "Digits":
                return new PreTokenizerStep.Digits(JsonFields.Bool(p, "individual_digits", false, path));
            default:
                throw new ModelFormatException(path, $"pre_tokenizer type \"{type}\" is not supported.");
        }
    }

    private static BpeDecoding ReadDecoder(JsonElement d, string path)
    {
        string type = JsonFields.Type(d, "decoder", path);
        var decoding = BpeDecoding.Raw;
        IEnumerable<JsonElement> steps = type == "Sequence" ? JsonFields.Array(d, "decoders", path) : [d];
        foreach (var step in steps)
        {
            string stepType = JsonFields.Type(step, "decoder", path);
            decoding = stepType switch
            {
                "ByteLevel" => decoding with { ByteLevel = true },
                "ByteFallback" => decoding with { ByteFallback = true },
                "Fuse" => decoding,
                "Replace" => ReadPattern(step, path) is (string from, null) && from.Length == 1 && JsonFields.String(step, "content", path) == " "
                    ? decoding with { Marker = from[0] }
                    : throw new ModelFormatException(path, "only a Replace decoder of one character by \" \" is supported."),
                "Strip" => decoding with { StripLeadingSpaces = ReadStrip(step, path) },
                "Metaspace" => decoding with
                {
                    Marker = ReadReplacement(step, path),
                    StripFirstMarker = ReadPrependScheme(step, path) != PrependScheme.Never,
                },
                _ => throw new ModelFormatException(path, $"decoder type \"{stepType}\" is not supported."),
            };
        }
        return decoding;
    }

    private static int ReadStrip(JsonElement step, string path)
    {
        if (JsonFields.String(step, "content", path) != " ")
            throw new ModelFormatException(path, "only a Strip decoder of spaces is supported.");
        int stop = JsonFields.Get(step, "stop") is JsonElement s ? JsonFields.Int(s, "decoder Strip.stop", path) : 0;
        if (stop != 0)
            throw new ModelFormatException(path, "a Strip decoder with stop > 0 is not supported.");
        return JsonFields.Get(step, "start") is JsonElement start ? JsonFields.Int(start, "decoder Strip.start", path) : 0;
    }

    /// <summary>A pattern is {"String": "..."} or {"Regex": "..."}.</summary>
    private static (string? Text, Regex? Regex) ReadPattern(JsonElement obj, string path)
    {
        if (JsonFields.Get(obj, "pattern") is not JsonElement pattern || pattern.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, "a Replace or Split step has no \"pattern\" object.");
        if (JsonFields.String(pattern, "String", path) is string text)
            return (text, null);
        if (JsonFields.String(pattern, "Regex", path) is string regex)
        {
            try
            {
                return (null, new Regex(regex, RegexOptions.Compiled | RegexOptions.CultureInvariant));
            }
            catch (ArgumentException e)
            {
                throw new ModelFormatException(path, $"pattern /{regex}/ is not a regular expression .NET supports ({e.Message}).", e);
            }
        }
        throw new ModelFormatException(path, "a pattern must have \"String\" or \"Regex\".");
    }

    private static SplitBehavior ReadBehavior(JsonElement p, string path)
    {
        string behavior = JsonFields.String(p, "behavior", path) ?? "Isolated";
        return Enum.TryParse<SplitBehavior>(behavior, ignoreCase: false, out var result)
            ? result
            : throw new ModelFormatException(path, $"Split behavior \"{behavior}\" is not supported.");
    }

    private static char ReadReplacement(JsonElement p, string path)
    {
        string replacement = JsonFields.String(p, "replacement", path) ?? "▁";
        if (replacement.Length != 1)
            throw new ModelFormatException(path, $"Metaspace replacement \"{replacement}\" must be one character.");
        return replacement[0];
    }

    /// <summary>prepend_scheme, or the older add_prefix_space (true means always).</summary>
    private static PrependScheme ReadPrependScheme(JsonElement p, string path)
    {
        return JsonFields.String(p, "prepend_scheme", path) switch
        {
            "always" => PrependScheme.Always,
            "first" => PrependScheme.First,
            "never" => PrependScheme.Never,
            null => JsonFields.Bool(p, "add_prefix_space", true, path) ? PrependScheme.Always : PrependScheme.Never,
            string other => throw new ModelFormatException(path, $"Metaspace prepend_scheme \"{other}\" is not supported."),
        };
    }

    /// <summary>The special token a TemplateProcessing post-processor puts before a single sequence.</summary>
    private static string? LeadingSpecialToken(JsonElement post, string path)
    {
        string type = JsonFields.Type(post, "post_processor", path);
        if (type == "Sequence")
        {
            foreach (var step in JsonFields.Array(post, "processors", path))
            {
                if (LeadingSpecialToken(step, path) is string found)
                    return found;
            }
            return null;
        }
        if (type != "TemplateProcessing")
            return null;
        var first = JsonFields.Array(post, "single", path).FirstOrDefault();
        return JsonFields.Get(first, "SpecialToken") is JsonElement special ? JsonFields.String(special, "id", path) : null;
    }
}

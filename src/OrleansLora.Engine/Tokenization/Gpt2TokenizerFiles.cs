using System.Text.Encodings.Web;
using System.Text.Json;

namespace OrleansLora.Engine.Tokenization;

/// <summary>
/// Writes the GPT-2 tokenizer in Hugging Face layout (tokenizer.json, vocab.json, merges.txt,
/// tokenizer_config.json, special_tokens_map.json) for generated random-weight models, with two
/// ChatML tokens added after &lt;|endoftext|&gt; and a ChatML chat template.
/// </summary>
public static class Gpt2TokenizerFiles
{
    /// <summary>Embedding rows of models using this tokenizer: 50259 ids padded to a multiple of 64.</summary>
    public const int VocabularySize = 50304;

    public const int EndOfTextId = 50256;
    public const int ImStartId = 50257;
    public const int ImEndId = 50258;

    public const string EndOfText = "<|endoftext|>";
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";

    /// <summary>The usual ChatML Jinja template of Hugging Face ChatML models.</summary>
    public const string ChatMLTemplate =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>Generation stops at either: plain text ends with &lt;|endoftext|&gt;, chat turns with &lt;|im_end|&gt;.</summary>
    public static IReadOnlyList<int> EosTokenIds { get; } = [EndOfTextId, ImEndId];

    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Ids of the three special tokens for a model with <paramref name="vocabularySize"/> embedding
    /// rows: GPT-2's own (50256..50258) when the vocabulary holds them, else the last three ids,
    /// after GPT-2's first <c>vocabularySize - 3</c> tokens (a BPE vocabulary truncated in rank
    /// order is still complete: every kept token is built from lower-ranked kept tokens).
    /// </summary>
    public static (int EndOfText, int ImStart, int ImEnd) SpecialTokenIds(int vocabularySize) =>
        vocabularySize >= ImEndId + 1
            ? (EndOfTextId, ImStartId, ImEndId)
            : vocabularySize >= MinimumVocabularySize
                ? (vocabularySize - 3, vocabularySize - 2, vocabularySize - 1)
                : throw new ArgumentOutOfRangeException(nameof(vocabularySize), vocabularySize, $"a GPT-2 tokenizer needs at least {MinimumVocabularySize} ids (256 bytes and 3 special tokens).");

    public const int MinimumVocabularySize = 259;

    /// <summary>Writes the tokenizer files into <paramref name="directory"/>, creating it if needed.</summary>
    /// <param name="vocabularySize">Embedding rows of the model; below 50259 the vocabulary is GPT-2's truncated in rank order.</param>
    public static void Write(string directory, int vocabularySize = VocabularySize)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var (eot, imStart, imEnd) = SpecialTokenIds(vocabularySize);
        Directory.CreateDirectory(directory);
        var vocabulary = Gpt2Vocabulary.Shared.Truncated(eot);
        (int Id, string Content, bool Normalized)[] added = [(eot, EndOfText, true), (imStart, ImStart, false), (imEnd, ImEnd, false)];

        WriteJson(Path.Combine(directory, TokenizerLoader.TokenizerJsonFileName), Indented, w => WriteTokenizerJson(w, vocabulary, added));
        WriteJson(Path.Combine(directory, TokenizerLoader.VocabFileName), Compact, w => WriteVocab(w, vocabulary, eot));
        WriteJson(Path.Combine(directory, TokenizerConfigFile.FileName), Indented, w => WriteTokenizerConfig(w, added));
        WriteJson(Path.Combine(directory, "special_tokens_map.json"), Indented, w =>
        {
            w.WriteStartObject();
            w.WriteString("bos_token", EndOfText);
            w.WriteString("eos_token", EndOfText);
            w.WriteString("unk_token", EndOfText);
            w.WriteEndObject();
        });

        using var merges = new StreamWriter(Path.Combine(directory, TokenizerLoader.MergesFileName), append: false, new System.Text.UTF8Encoding(false));
        merges.NewLine = "\n";
        merges.WriteLine("#version: 0.2");
        foreach (var (left, right) in vocabulary.Merges)
        {
            merges.Write(left);
            merges.Write(' ');
            merges.WriteLine(right);
        }
    }

    private static void WriteJson(string path, JsonWriterOptions options, Action<Utf8JsonWriter> write)
    {
        using var stream = File.Create(path);
        using (var writer = new Utf8JsonWriter(stream, options))
            write(writer);
        stream.WriteByte((byte)'\n');
    }

    private static void WriteVocab(Utf8JsonWriter w, Gpt2Vocabulary vocabulary, int endOfTextId)
    {
        w.WriteStartObject();
        for (int id = 0; id < vocabulary.Tokens.Count; id++)
            w.WriteNumber(vocabulary.Tokens[id], id);
        // GPT-2's own vocab.json lists <|endoftext|>; the ChatML tokens are added tokens only.
        w.WriteNumber(EndOfText, endOfTextId);
        w.WriteEndObject();
    }

    private static void WriteTokenizerJson(Utf8JsonWriter w, Gpt2Vocabulary vocabulary, (int Id, string Content, bool Normalized)[] added)
    {
        w.WriteStartObject();
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        foreach (var (id, content, normalized) in added)
        {
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("content", content);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", normalized);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNull("normalizer");
        WriteByteLevel(w, "pre_tokenizer", addPrefixSpace: false, trimOffsets: true);
        WriteByteLevel(w, "post_processor", addPrefixSpace: true, trimOffsets: false);
        WriteByteLevel(w, "decoder", addPrefixSpace: true, trimOffsets: true);

        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        w.WriteNull("unk_token");
        w.WriteString("continuing_subword_prefix", "");
        w.WriteString("end_of_word_suffix", "");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", false);
        w.WritePropertyName("vocab");
        WriteVocab(w, vocabulary, added[0].Id);
        w.WriteStartArray("merges");
        foreach (var (left, right) in vocabulary.Merges)
            w.WriteStringValue(left + " " + right);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteByteLevel(Utf8JsonWriter w, string name, bool addPrefixSpace, bool trimOffsets)
    {
        w.WriteStartObject(name);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", addPrefixSpace);
        w.WriteBoolean("trim_offsets", trimOffsets);
        w.WriteBoolean("use_regex", true);
        w.WriteEndObject();
    }

    private static void WriteTokenizerConfig(Utf8JsonWriter w, (int Id, string Content, bool Normalized)[] added)
    {
        w.WriteStartObject();
        w.WriteBoolean("add_bos_token", false);
        w.WriteBoolean("add_prefix_space", false);
        w.WriteStartObject("added_tokens_decoder");
        foreach (var (id, content, normalized) in added)
        {
            w.WriteStartObject(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("content", content);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("normalized", normalized);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteString("bos_token", EndOfText);
        w.WriteString("chat_template", ChatMLTemplate);
        w.WriteBoolean("clean_up_tokenization_spaces", false);
        w.WriteString("eos_token", EndOfText);
        w.WriteString("errors", "replace");
        w.WriteString("tokenizer_class", "GPT2Tokenizer");
        w.WriteString("unk_token", EndOfText);
        w.WriteEndObject();
    }
}

using System.Text;
using System.Text.Json.Nodes;

namespace OrleansLora.Engine.Tests.Tokenization;

/// <summary>
/// A tiny SentencePiece-style BPE vocabulary (Llama-2 layout: &lt;unk&gt; &lt;s&gt; &lt;/s&gt;, 256 byte
/// pieces, then word pieces) written as a Hugging Face tokenizer.json or as a tokenizer.model
/// protobuf, so tests need no downloaded model.
/// </summary>
internal static class SentencePieceFixtures
{
    public const int Unk = 0;
    public const int Bos = 1;
    public const int Eos = 2;

    // Merges in priority order; each result is a vocabulary piece.
    private static readonly (string Left, string Right)[] MergeList =
    [
        ("l", "l"), ("▁", "H"), ("▁H", "e"), ("ll", "o"), ("▁He", "llo"), ("o", "r"), ("▁", "w"),
        ("▁w", "or"), ("l", "d"), ("▁wor", "ld"), ("▁", "t"), ("h", "e"), ("▁t", "he"),
    ];

    private static readonly string[] Characters = ["▁", "H", "e", "l", "o", "w", "r", "d", "t", "h", "!", "é", "."];

    /// <summary>Pieces in id order.</summary>
    public static IReadOnlyList<string> Pieces { get; } = BuildPieces();

    public static int Id(string piece)
    {
        int id = Pieces.ToList().IndexOf(piece);
        return id >= 0 ? id : throw new ArgumentException($"no piece \"{piece}\"");
    }

    private static List<string> BuildPieces()
    {
        var pieces = new List<string> { "<unk>", "<s>", "</s>" };
        for (int b = 0; b < 256; b++)
            pieces.Add($"<0x{b:X2}>");
        foreach (var (left, right) in MergeList)
        {
            if (!pieces.Contains(left + right))
                pieces.Add(left + right);
        }
        foreach (string c in Characters)
        {
            if (!pieces.Contains(c))
                pieces.Add(c);
        }
        return pieces;
    }

    /// <param name="metaspace">
    /// true: newer layout (Metaspace pre-tokenizer, prepend_scheme "first"); false: legacy Llama-2 /
    /// Mistral layout (Prepend + Replace normalizer, Strip decoder).
    /// </param>
    public static string TokenizerJson(bool metaspace)
    {
        var vocab = new JsonObject();
        for (int i = 0; i < Pieces.Count; i++)
            vocab[Pieces[i]] = i;
        var merges = new JsonArray(MergeList.Select(m => (JsonNode)JsonValue.Create($"{m.Left} {m.Right}")).ToArray());

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(
                Added(Unk, "<unk>"), Added(Bos, "<s>"), Added(Eos, "</s>")),
            ["normalizer"] = metaspace ? null : new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            },
            ["pre_tokenizer"] = metaspace
                ? new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁", ["prepend_scheme"] = "first", ["split"] = false }
                : null,
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<s>", ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
            },
            ["decoder"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                    new JsonObject { ["type"] = "ByteFallback" },
                    new JsonObject { ["type"] = "Fuse" },
                    new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = "<unk>",
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = true,
                ["byte_fallback"] = true,
                ["vocab"] = vocab,
                ["merges"] = merges,
            },
        };
        return root.ToJsonString();

        static JsonObject Added(int id, string content) => new()
        {
            ["id"] = id,
            ["content"] = content,
            ["single_word"] = false,
            ["lstrip"] = false,
            ["rstrip"] = false,
            ["normalized"] = false,
            ["special"] = true,
        };
    }

    /// <summary>tokenizer_config.json of a Llama-2 style model with the given chat template.</summary>
    public static string TokenizerConfig(string? chatTemplate) => new JsonObject
    {
        ["add_bos_token"] = true,
        ["add_eos_token"] = false,
        ["bos_token"] = new JsonObject { ["__type"] = "AddedToken", ["content"] = "<s>", ["special"] = true },
        ["eos_token"] = "</s>",
        ["unk_token"] = "<unk>",
        ["chat_template"] = chatTemplate,
        ["tokenizer_class"] = "LlamaTokenizer",
    }.ToJsonString();

    /// <summary>
    /// The same vocabulary as a SentencePiece ModelProto (sentencepiece_model.proto): BPE with byte
    /// fallback, scores falling with merge priority so SentencePiece merges in the same order.
    /// </summary>
    public static byte[] SentencePieceModel()
    {
        var model = new MemoryStream();
        float score = 0;
        for (int i = 0; i < Pieces.Count; i++)
        {
            string piece = Pieces[i];
            int type = i == Unk ? 2 : i <= Eos ? 3 : piece.StartsWith("<0x", StringComparison.Ordinal) ? 6 : 1;
            var entry = new MemoryStream();
            WriteBytes(entry, 1, Encoding.UTF8.GetBytes(piece));
            WriteTag(entry, 2, 5);
            entry.Write(BitConverter.GetBytes(type == 1 ? score -= 1 : 0f));
            WriteVarintField(entry, 3, type);
            WriteBytes(model, 1, entry.ToArray());
        }

        var trainer = new MemoryStream();
        WriteVarintField(trainer, 3, 2); // model_type BPE
        WriteVarintField(trainer, 4, Pieces.Count);
        WriteVarintField(trainer, 35, 1); // byte_fallback
        WriteVarintField(trainer, 40, Unk);
        WriteVarintField(trainer, 41, Bos);
        WriteVarintField(trainer, 42, Eos);
        WriteVarintField(trainer, 43, -1); // pad_id
        WriteBytes(model, 2, trainer.ToArray());

        var normalizer = new MemoryStream();
        WriteBytes(normalizer, 1, Encoding.UTF8.GetBytes("identity"));
        WriteVarintField(normalizer, 3, 1); // add_dummy_prefix
        WriteVarintField(normalizer, 4, 0); // remove_extra_whitespaces
        WriteVarintField(normalizer, 5, 1); // escape_whitespaces
        WriteBytes(model, 3, normalizer.ToArray());
        return model.ToArray();
    }

    private static void WriteVarint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }

    private static void WriteTag(Stream s, int field, int wireType) => WriteVarint(s, (ulong)((field << 3) | wireType));

    private static void WriteVarintField(Stream s, int field, long value)
    {
        WriteTag(s, field, 0);
        WriteVarint(s, (ulong)value);
    }

    private static void WriteBytes(Stream s, int field, byte[] bytes)
    {
        WriteTag(s, field, 2);
        WriteVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }
}

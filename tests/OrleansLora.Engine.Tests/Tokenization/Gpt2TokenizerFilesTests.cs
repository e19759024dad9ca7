using OrleansLora.Engine.Tests.Support;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Tokenization;

public sealed class Gpt2TokenizerFilesTests(Gpt2TokenizerFixture fixture) : IClassFixture<Gpt2TokenizerFixture>
{
    private static readonly TiktokenTokenizer Reference = TiktokenTokenizer.CreateForModel(
        "gpt2",
        new Dictionary<string, int> { [Gpt2TokenizerFiles.ImStart] = Gpt2TokenizerFiles.ImStartId, [Gpt2TokenizerFiles.ImEnd] = Gpt2TokenizerFiles.ImEndId });

    public static TheoryData<string> Samples => new()
    {
        "Hello world",
        "Hello, world! How are you doing today?",
        "  leading and trailing spaces   ",
        "multiple   spaces\n\nnew lines\tand\ttabs\r\n",
        "I'm sure they'll say it's what we've done, isn't it? I'D SAY SO",
        "Numbers 1234567890 and 3.14159, 1e-5, 0x1F",
        "café naïve résumé Ærøskøbing Straße",
        "日本語のテキストと中文文本",
        "emoji 😀👍🏽 🇫🇷 and ZWJ 👩‍👩‍👧",
        "code: for (int i = 0; i < n; i++) { sum += a[i]; } // done",
        "Приветствую, мир! Ελληνικά. עברית. العربية",
        "\u00a0non-breaking\u2003em space\u200bzero width",
        "a",
        "",
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Encode_matches_tiktoken_gpt2(string text)
    {
        var expected = Reference.EncodeToIds(text);
        var actual = fixture.Tokenizer.Encode(text, addBos: false);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Decode_inverts_encode(string text)
    {
        var ids = fixture.Tokenizer.Encode(text, addBos: false);
        Assert.Equal(text, fixture.Tokenizer.Decode(ids));
    }

    [Fact]
    public void Random_unicode_text_matches_tiktoken_and_round_trips()
    {
        var random = new Random(1234);
        string[] alphabet = ["a", "b", "Z", " ", "  ", "\n", "'", "s", "9", "42", ".", "é", "ß", "中", "文", "😀", "🏽", "\t", "-", "ll", "Ω"];
        for (int sample = 0; sample < 300; sample++)
        {
            var text = new StringBuilder();
            int length = random.Next(1, 40);
            for (int i = 0; i < length; i++)
                text.Append(alphabet[random.Next(alphabet.Length)]);
            string s = text.ToString();
            var ids = fixture.Tokenizer.Encode(s, addBos: false);
            Assert.Equal(Reference.EncodeToIds(s), ids);
            Assert.Equal(s, fixture.Tokenizer.Decode(ids));
        }
    }

    [Fact]
    public void Concurrent_encoding_gives_the_sequential_result()
    {
        // One tokenizer serves every sequence of an engine; its word cache is shared across threads.
        string[] texts = Enumerable.Range(0, 64).Select(i => $"text {i}: naïve 中文 😀 {new string('x', i % 7)} done").ToArray();
        var expected = texts.Select(t => Reference.EncodeToIds(t)).ToArray();

        var actual = new IReadOnlyList<int>[texts.Length];
        Parallel.For(0, texts.Length * 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            actual[i % texts.Length] = fixture.Tokenizer.Encode(texts[i % texts.Length], addBos: false));

        for (int i = 0; i < texts.Length; i++)
            Assert.Equal(expected[i], actual[i]);
    }

    [Fact]
    public void Special_tokens_written_literally_encode_to_their_ids()
    {
        var ids = fixture.Tokenizer.Encode("<|im_start|>user\nHi<|im_end|>\n<|endoftext|>", addBos: false);

        Assert.Equal(Gpt2TokenizerFiles.ImStartId, ids[0]);
        Assert.Contains(Gpt2TokenizerFiles.ImEndId, ids);
        Assert.Equal(Gpt2TokenizerFiles.EndOfTextId, ids[^1]);
        Assert.Equal(Reference.EncodeToIds("<|im_start|>user\nHi<|im_end|>\n<|endoftext|>"), ids);
        Assert.Equal("user\nHi\n", fixture.Tokenizer.Decode(ids));
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|endoftext|>", fixture.Tokenizer.Decode(ids, skipSpecialTokens: false));
    }

    [Fact]
    public void Loaded_tokenizer_reports_gpt2_specials()
    {
        var tokenizer = fixture.Tokenizer;

        Assert.Equal(50259, tokenizer.VocabularySize);
        Assert.Null(tokenizer.BosTokenId);
        Assert.Equal([Gpt2TokenizerFiles.EndOfTextId], tokenizer.EosTokenIds);
        Assert.Equal(Gpt2TokenizerFiles.ChatMLTemplate, tokenizer.ChatTemplate.Source);
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", tokenizer.ChatTemplate.Render([ChatMessage.User("Hi")]));
        Assert.Equal(Gpt2TokenizerFiles.VocabularySize % 64, 0);
        Assert.True(Gpt2TokenizerFiles.VocabularySize >= tokenizer.VocabularySize);
    }

    [Fact]
    public void Config_json_eos_list_adds_im_end()
    {
        string dir = TempDirectory.Create("gpt2-config");
        try
        {
            Gpt2TokenizerFiles.Write(dir);
            File.WriteAllText(Path.Combine(dir, "config.json"), """{"bos_token_id": 50256, "eos_token_id": [50256, 50258]}""");

            var tokenizer = TokenizerLoader.Load(dir);

            Assert.Equal(Gpt2TokenizerFiles.EosTokenIds, tokenizer.EosTokenIds);
        }
        finally
        {
            TempDirectory.Delete(dir);
        }
    }

    [Fact]
    public void Vocab_and_merges_alone_load_and_match_tiktoken()
    {
        string dir = TempDirectory.Create("gpt2-slow");
        try
        {
            foreach (string name in new[] { "vocab.json", "merges.txt", "tokenizer_config.json" })
                File.Copy(Path.Combine(fixture.Directory, name), Path.Combine(dir, name));

            var tokenizer = TokenizerLoader.Load(dir);

            string text = "<|im_start|>assistant\nSome text: 日本 😀 naïve, 12345.<|im_end|>";
            Assert.Equal(Reference.EncodeToIds(text), tokenizer.Encode(text, addBos: false));
            Assert.Equal([Gpt2TokenizerFiles.EndOfTextId], tokenizer.EosTokenIds);
        }
        finally
        {
            TempDirectory.Delete(dir);
        }
    }

    [Fact]
    public void Files_have_hugging_face_layout()
    {
        string[] merges = File.ReadAllLines(Path.Combine(fixture.Directory, "merges.txt"));
        Assert.Equal("#version: 0.2", merges[0]);
        Assert.Equal(50001, merges.Length);
        Assert.Equal("Ġ t", merges[1]); // GPT-2's first merge

        using var vocab = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Directory, "vocab.json")));
        Assert.Equal(50257, vocab.RootElement.EnumerateObject().Count());
        Assert.Equal(0, vocab.RootElement.GetProperty("!").GetInt32());
        Assert.Equal(50256, vocab.RootElement.GetProperty("<|endoftext|>").GetInt32());
        Assert.Equal(220, vocab.RootElement.GetProperty("Ġ").GetInt32());

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Directory, "tokenizer_config.json")));
        var root = config.RootElement;
        Assert.Equal("GPT2Tokenizer", root.GetProperty("tokenizer_class").GetString());
        Assert.Equal("<|endoftext|>", root.GetProperty("bos_token").GetString());
        Assert.Equal("<|endoftext|>", root.GetProperty("eos_token").GetString());
        Assert.Equal(Gpt2TokenizerFiles.ChatMLTemplate, root.GetProperty("chat_template").GetString());
        Assert.Contains("'\\n'", root.GetProperty("chat_template").GetString());
        Assert.Equal("<|im_start|>", root.GetProperty("added_tokens_decoder").GetProperty("50257").GetProperty("content").GetString());
        Assert.Equal("<|im_end|>", root.GetProperty("added_tokens_decoder").GetProperty("50258").GetProperty("content").GetString());

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture.Directory, "tokenizer.json")));
        var model = json.RootElement.GetProperty("model");
        Assert.Equal("BPE", model.GetProperty("type").GetString());
        Assert.Equal(50000, model.GetProperty("merges").GetArrayLength());
        Assert.Equal("ByteLevel", json.RootElement.GetProperty("pre_tokenizer").GetProperty("type").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("added_tokens").GetArrayLength());
    }

    [Fact]
    public void Truncated_vocabulary_keeps_every_id_below_the_model_size()
    {
        string dir = TempDirectory.Create("gpt2-32000");
        try
        {
            Gpt2TokenizerFiles.Write(dir, vocabularySize: 32000);
            var tokenizer = TokenizerLoader.Load(dir);
            Assert.Equal((31997, 31998, 31999), Gpt2TokenizerFiles.SpecialTokenIds(32000));

            string text = "<|im_start|>user\nThe quick brown fox jumps over the lazy dog. 日本語 😀 naïve<|im_end|>";
            var ids = tokenizer.Encode(text, addBos: false);
            Assert.All(ids, id => Assert.InRange(id, 0, 31999));
            Assert.Equal(31998, ids[0]);
            Assert.Equal(31999, ids[^1]);
            Assert.Equal(text, tokenizer.Decode(ids, skipSpecialTokens: false));
            // Tokens that survive the truncation keep GPT-2's ids.
            Assert.Equal(Reference.EncodeToIds(" the"), tokenizer.Encode(" the", addBos: false));
            Assert.Throws<ArgumentOutOfRangeException>(() => Gpt2TokenizerFiles.Write(dir, vocabularySize: 100));
        }
        finally
        {
            TempDirectory.Delete(dir);
        }
    }
}

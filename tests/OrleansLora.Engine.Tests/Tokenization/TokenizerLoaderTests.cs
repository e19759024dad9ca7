using OrleansLora.Engine.Tests.Support;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Tokenization;

public sealed class TokenizerLoaderTests(Gpt2TokenizerFixture fixture) : IClassFixture<Gpt2TokenizerFixture>, IDisposable
{
    private readonly string _directory = TempDirectory.Create("loader");

    public void Dispose() => TempDirectory.Delete(_directory);

    private string Write(string name, string content)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Missing_directory_is_named()
    {
        string missing = Path.Combine(_directory, "nope");

        var e = Assert.Throws<DirectoryNotFoundException>(() => TokenizerLoader.Load(missing));

        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void Directory_without_tokenizer_files_lists_what_was_expected()
    {
        Write("config.json", """{"eos_token_id": 2}""");

        var e = Assert.Throws<FileNotFoundException>(() => TokenizerLoader.Load(_directory));

        Assert.Contains(_directory, e.Message);
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("tokenizer.model", e.Message);
        Assert.Contains("merges.txt", e.Message);
    }

    [Fact]
    public void Tokenizer_json_that_is_not_json_names_the_file()
    {
        string path = Write("tokenizer.json", "{ this is not json");

        var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(_directory));

        Assert.Equal(path, e.File);
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("not valid JSON", e.Message);
    }

    [Fact]
    public void Unknown_model_type_names_the_file_and_type()
    {
        string path = Write("tokenizer.json", """{"model": {"type": "Unigram", "vocab": [["<unk>", 0.0]]}}""");

        var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(_directory));

        Assert.Equal(path, e.File);
        Assert.Contains("Unigram", e.Message);
    }

    [Fact]
    public void Unsupported_pre_tokenizer_names_the_type()
    {
        var json = JsonNode.Parse(SentencePieceFixtures.TokenizerJson(metaspace: true))!;
        json["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" };
        Write("tokenizer.json", json.ToJsonString());

        var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(_directory));

        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("BertPreTokenizer", e.Message);
    }

    [Fact]
    public void Merge_of_unknown_tokens_names_the_merge()
    {
        Write("tokenizer.json", """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a zz"]}}""");
        Write("config.json", """{"eos_token_id": 0}""");

        var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(_directory));

        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("a zz", e.Message);
    }

    [Fact]
    public void Bad_tokenizer_config_names_the_file()
    {
        File.WriteAllText(Path.Combine(_directory, "tokenizer.json"), SentencePieceFixtures.TokenizerJson(metaspace: true));
        Write("tokenizer_config.json", "[1, 2");

        var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(_directory));

        Assert.Contains("tokenizer_config.json", e.Message);
    }

    [Fact]
    public void Garbage_tokenizer_model_names_the_file()
    {
        string path = Path.Combine(_directory, "tokenizer.model");
        File.WriteAllBytes(path, [0xFF, 0x00, 0x13, 0x37, 0x42]);
        Write("tokenizer_config.json", """{"eos_token": "</s>"}""");

        var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(_directory));

        Assert.Equal(path, e.File);
    }

    [Fact]
    public void Missing_eos_everywhere_names_the_directory()
    {
        Write("tokenizer.json", """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []}}""");

        var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(_directory));

        Assert.Equal(_directory, e.File);
        Assert.Contains("eos", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Eos_token_that_is_not_in_the_vocabulary_is_named()
    {
        Write("tokenizer.json", """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": []}}""");
        Write("tokenizer_config.json", """{"eos_token": "<|missing|>"}""");

        var e = Assert.Throws<ModelFormatException>(() => TokenizerLoader.Load(_directory));

        Assert.Contains("<|missing|>", e.Message);
        Assert.Contains("tokenizer_config.json", e.Message);
    }

    [Fact]
    public void Eos_ids_merge_tokenizer_config_config_and_generation_config()
    {
        File.WriteAllText(Path.Combine(_directory, "tokenizer.json"), SentencePieceFixtures.TokenizerJson(metaspace: false));
        Write("tokenizer_config.json", """{"eos_token": {"content": "</s>", "special": true}, "bos_token": "<s>"}""");
        Write("config.json", """{"bos_token_id": 1, "eos_token_id": [2, 7]}""");
        Write("generation_config.json", """{"eos_token_id": 9}""");

        var tokenizer = TokenizerLoader.Load(_directory);

        Assert.Equal([2, 7, 9], tokenizer.EosTokenIds);
        // No add_bos_token: the tokenizer.json post-processor's leading <s> decides.
        Assert.Equal(SentencePieceFixtures.Bos, tokenizer.BosTokenId);
        Assert.False(tokenizer.ChatTemplate.IsAvailable);
    }

    [Fact]
    public void Chat_template_file_beside_the_config_is_used()
    {
        File.WriteAllText(Path.Combine(_directory, "tokenizer.json"), SentencePieceFixtures.TokenizerJson(metaspace: true));
        Write("tokenizer_config.json", """{"eos_token": "</s>", "bos_token": "<s>"}""");
        Write("chat_template.jinja", ChatTemplateFixtures.TemplateSource("mistral-v0.3"));

        var tokenizer = TokenizerLoader.Load(_directory);

        Assert.Equal("<s>[INST] hi[/INST]", tokenizer.ChatTemplate.Render([ChatMessage.User("hi")]));
    }

    [Fact]
    public void Split_and_byte_level_pre_tokenizers_compose_like_hugging_face()
    {
        // Llama-3 style: the word regex in a Split step and ByteLevel without its own regex. With
        // GPT-2's regex this must still equal tiktoken's GPT-2 encoding.
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(fixture.Directory, "tokenizer.json")))!;
        json["pre_tokenizer"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "Split",
                    ["pattern"] = new JsonObject { ["Regex"] = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+" },
                    ["behavior"] = "Isolated",
                    ["invert"] = false,
                },
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false }),
        };
        Write("tokenizer.json", json.ToJsonString());
        File.Copy(Path.Combine(fixture.Directory, "tokenizer_config.json"), Path.Combine(_directory, "tokenizer_config.json"));

        var tokenizer = TokenizerLoader.Load(_directory);
        var reference = TiktokenTokenizer.CreateForModel("gpt2");

        foreach (string text in new[] { "Hello world!", "I'll   go,\n\n 中文 😀 3.14", "  x  " })
            Assert.Equal(reference.EncodeToIds(text), tokenizer.Encode(text, addBos: false));
    }

    [Fact]
    public void Merges_written_as_pairs_load_like_strings()
    {
        var json = JsonNode.Parse(SentencePieceFixtures.TokenizerJson(metaspace: true))!;
        var merges = json["model"]!["merges"]!.AsArray().Select(m => m!.GetValue<string>().Split(' ')).ToList();
        json["model"]!["merges"] = new JsonArray(merges.Select(m => (JsonNode)new JsonArray(m[0], m[1])).ToArray());
        Write("tokenizer.json", json.ToJsonString());
        Write("tokenizer_config.json", SentencePieceFixtures.TokenizerConfig(null));

        var tokenizer = TokenizerLoader.Load(_directory);

        Assert.Equal([SentencePieceFixtures.Id("▁Hello"), SentencePieceFixtures.Id("▁world")], tokenizer.Encode("Hello world", addBos: false));
    }
}

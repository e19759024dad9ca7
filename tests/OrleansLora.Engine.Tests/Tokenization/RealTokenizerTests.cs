using System.Text.Json;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Tokenization;

/// <summary>
/// Real tokenizer.json files (Qwen3 with its NFC normalizer, Llama-3, Llama-2) against the ids
/// Hugging Face's tokenizers library gives (Fixtures/tokenizer-ids.json, from tokenizer_oracle.js),
/// on strings with combining marks, Hangul, compatibility characters and emoji sequences. This
/// test process runs with InvariantGlobalization (see the project file), as the server does.
/// </summary>
public sealed class RealTokenizerTests
{
    private static readonly Lazy<JsonElement> Oracle = new(() =>
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(ChatTemplateFixtures.Directory, "tokenizer-ids.json")));
        return document.RootElement.Clone();
    });

    private static readonly Dictionary<string, Lazy<ITextTokenizer>> Tokenizers = new()
    {
        ["qwen3"] = new(() => TokenizerLoader.Load(RepositoryFiles.TokenizerPackage("qwen3"))),
        ["llama3"] = new(() => TokenizerLoader.Load(RepositoryFiles.TokenizerPackage("llama3"))),
        ["llama2"] = new(() => TokenizerLoader.Load(RepositoryFiles.TokenizerPackage("llama2"))),
    };

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var tokenizer in Oracle.Value.GetProperty("ids").EnumerateObject())
        {
            for (int i = 0; i < tokenizer.Value.GetArrayLength(); i++)
                data.Add(tokenizer.Name, i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ids_match_hugging_face_tokenizers(string tokenizerName, int index)
    {
        var expected = Oracle.Value.GetProperty("ids").GetProperty(tokenizerName)[index];
        string text = expected.GetProperty("text").GetString()!;
        var tokenizer = Tokenizers[tokenizerName].Value;

        Assert.Equal(Ids(expected, "ids"), tokenizer.Encode(text, addBos: false));
        Assert.Equal(Ids(expected, "with_special_tokens"), tokenizer.Encode(text, addBos: true));
    }

    [Fact]
    public void Qwen3_normalizes_to_nfc_under_invariant_globalization()
    {
        Assert.True(AppContext.TryGetSwitch("System.Globalization.Invariant", out bool invariant) && invariant,
            "this test project must run with InvariantGlobalization, as the server does");
        var qwen3 = Tokenizers["qwen3"].Value;

        // The cases: a decomposed é is one token with "caf" (as "café" is), the Ångström sign is Å.
        Assert.Equal(qwen3.Encode("café", addBos: false), qwen3.Encode("cafe\u0301", addBos: false));
        Assert.Equal(2, qwen3.Encode("cafe\u0301", addBos: false).Count);
        Assert.Equal([144044], qwen3.Encode("\u212b", addBos: false));
    }

    private static int[] Ids(JsonElement entry, string property) =>
        [.. entry.GetProperty(property).EnumerateArray().Select(e => e.GetInt32())];
}

using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Tokenization;

public sealed class IncrementalDetokenizerTests(Gpt2TokenizerFixture fixture) : IClassFixture<Gpt2TokenizerFixture>
{
    private ITextTokenizer Tokenizer => fixture.Tokenizer;

    private static List<string> Stream(IncrementalDetokenizer detokenizer, IEnumerable<int> ids)
    {
        var deltas = ids.Select(detokenizer.Append).ToList();
        deltas.Add(detokenizer.Flush());
        return deltas;
    }

    [Theory]
    [InlineData("Hello world, this is a plain sentence.")]
    [InlineData("日本語のテキストと中文文本")]
    [InlineData("emoji 😀👍🏽 🇫🇷 family 👩‍👩‍👧 done")]
    [InlineData("mixed: café 中文 😀 naïve\n\ttabs  and  spaces")]
    public void Deltas_concatenate_to_the_full_decode_without_broken_characters(string text)
    {
        var ids = Tokenizer.Encode(text, addBos: false);

        var deltas = Stream(new IncrementalDetokenizer(Tokenizer), ids);

        Assert.Equal(text, string.Concat(deltas));
        Assert.Equal(Tokenizer.Decode(ids), string.Concat(deltas));
        Assert.All(deltas, d => Assert.DoesNotContain('\uFFFD', d));
    }

    [Fact]
    public void Byte_level_tokens_that_split_a_character_are_held_back()
    {
        // GPT-2 has no token for "😀"; its four bytes span several tokens.
        var ids = Tokenizer.Encode("😀", addBos: false);
        Assert.True(ids.Count > 1);
        Assert.Contains('\uFFFD', Tokenizer.Decode(ids.Take(1)));

        var detokenizer = new IncrementalDetokenizer(Tokenizer);
        var deltas = ids.Select(detokenizer.Append).ToList();

        Assert.All(deltas.Take(deltas.Count - 1), d => Assert.Equal("", d));
        Assert.Equal("😀", deltas[^1]);
        Assert.Equal("", detokenizer.Flush());
    }

    [Fact]
    public void Flush_releases_an_unfinished_character()
    {
        var ids = Tokenizer.Encode("a😀", addBos: false);
        var detokenizer = new IncrementalDetokenizer(Tokenizer);

        string released = string.Concat(ids.Take(ids.Count - 1).Select(detokenizer.Append));
        string flushed = detokenizer.Flush();

        Assert.Equal("a", released);
        Assert.Equal(Tokenizer.Decode(ids.Take(ids.Count - 1))[1..], flushed);
        Assert.EndsWith("\uFFFD", flushed);
    }

    [Fact]
    public void Skipped_special_tokens_release_nothing_and_keep_the_stream_exact()
    {
        var ids = Tokenizer.Encode("<|im_start|>assistant\nHi 😀<|im_end|>", addBos: false);

        var skipping = Stream(new IncrementalDetokenizer(Tokenizer), ids);
        var keeping = Stream(new IncrementalDetokenizer(Tokenizer, skipSpecialTokens: false), ids);

        Assert.Equal("assistant\nHi 😀", string.Concat(skipping));
        Assert.Equal("<|im_start|>assistant\nHi 😀<|im_end|>", string.Concat(keeping));
    }

    [Fact]
    public void Random_token_streams_match_the_full_decode()
    {
        // Random ids include bytes that never form valid UTF-8 and padded ids past the vocabulary;
        // their U+FFFD come from Decode itself and must come through the same.
        var random = new Random(7);
        for (int sample = 0; sample < 200; sample++)
        {
            var ids = Enumerable.Range(0, random.Next(1, 30)).Select(_ => random.Next(Gpt2TokenizerFiles.VocabularySize)).ToList();

            var deltas = Stream(new IncrementalDetokenizer(Tokenizer), ids);

            Assert.Equal(Tokenizer.Decode(ids), string.Concat(deltas));
        }
    }

    [Fact]
    public void Multibyte_random_text_streams_exactly()
    {
        var random = new Random(11);
        string[] alphabet = ["a", " ", "é", "中", "😀", "🏽", "\n", "ß", "文", "!"];
        for (int sample = 0; sample < 200; sample++)
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(1, 25)).Select(_ => alphabet[random.Next(alphabet.Length)]));
            var ids = Tokenizer.Encode(text, addBos: false);

            var deltas = Stream(new IncrementalDetokenizer(Tokenizer), ids);

            Assert.Equal(text, string.Concat(deltas));
            Assert.All(deltas, d => Assert.DoesNotContain('\uFFFD', d));
        }
    }

    [Fact]
    public void Work_per_token_stays_small_for_long_streams()
    {
        var counting = new CountingTokenizer(Tokenizer);
        var ids = Tokenizer.Encode(string.Concat(Enumerable.Repeat("Some words 中文 😀 and more. ", 400)), addBos: false);

        var deltas = Stream(new IncrementalDetokenizer(counting), ids);

        Assert.Equal(Tokenizer.Decode(ids), string.Concat(deltas));
        Assert.True(counting.MaxIdsPerDecode <= 12, $"a decode saw {counting.MaxIdsPerDecode} ids");
        Assert.True(counting.Decodes <= 3 * ids.Count, $"{counting.Decodes} decodes for {ids.Count} tokens");
    }

    private sealed class CountingTokenizer(ITextTokenizer inner) : ITextTokenizer
    {
        public int Decodes { get; private set; }

        public int MaxIdsPerDecode { get; private set; }

        public int VocabularySize => inner.VocabularySize;

        public int? BosTokenId => inner.BosTokenId;

        public IReadOnlyList<int> EosTokenIds => inner.EosTokenIds;

        public ChatTemplate ChatTemplate => inner.ChatTemplate;

        public IReadOnlyList<int> Encode(string text, bool addBos) => inner.Encode(text, addBos);

        public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
        {
            var list = ids.ToList();
            Decodes++;
            MaxIdsPerDecode = Math.Max(MaxIdsPerDecode, list.Count);
            return inner.Decode(list, skipSpecialTokens);
        }
    }
}

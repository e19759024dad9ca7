using System.Text;
using System.Text.Json;
using OrleansLora.Engine.Constraints;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Tokenization;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Constraints;

/// <summary>Token bytes and constrained output on real vocabularies: SentencePiece (Llama-2) and byte-level BPE (Qwen3, Llama-3).</summary>
public sealed class RealVocabularyTests
{
    [Theory]
    [InlineData("llama2")]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    public void Token_bytes_concatenate_to_the_decoded_text_and_constrained_output_parses(string name)
    {
        var tokenizer = TokenizerLoader.Load(RepositoryFiles.TokenizerPackage(name));
        var vocabulary = TokenVocabulary.For(tokenizer);
        // A text's ids, byte by byte, decode to the same text (SentencePiece's leading "▁" is a space here).
        var ids = tokenizer.Encode("Hello, wörld! {\"a\": [1, 2]} 日本", addBos: false);
        var bytes = ids.SelectMany(id => vocabulary[id].ToArray()).ToArray();
        Assert.EndsWith(tokenizer.Decode(ids).TrimStart(), Encoding.UTF8.GetString(bytes));
        foreach (int eos in tokenizer.EosTokenIds)
            Assert.False(vocabulary.IsText(eos));

        var spec = GrammarSpec.JsonSchema("""{"type":"object","properties":{"city":{"type":"string"},"n":{"type":"integer"}},"required":["city","n"]}""");
        var cache = TokenGrammarCache.For(tokenizer);
        for (ulong seed = 1; seed <= 10; seed++)
        {
            var processor = cache.CreateProcessor(spec, 60);
            var sampler = new SequenceSampler(new SamplingParams { Temperature = 1f, Seed = seed, MaxNewTokens = 60 }, [], processor);
            var rng = new Random((int)seed);
            var logits = new float[tokenizer.VocabularySize];
            var generated = new List<int>();
            for (int step = 0; step < 60 && !processor.IsFinished; step++)
            {
                for (int i = 0; i < logits.Length; i++)
                    logits[i] = (float)(rng.NextDouble() * 8);
                int token = sampler.Sample(logits);
                sampler.Accept(token);
                if (!processor.IsFinished)
                    generated.Add(token);
            }
            string text = Encoding.UTF8.GetString(generated.SelectMany(id => vocabulary[id].ToArray()).ToArray());
            using var document = JsonDocument.Parse(text);
            Assert.Equal(JsonValueKind.String, document.RootElement.GetProperty("city").ValueKind);
        }
    }
}

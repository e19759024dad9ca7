using System.Text.Json;
using Json.Schema;
using OrleansLora.Engine.Constraints;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Tokenization;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Constraints;

/// <summary>
/// Random logits stand in for a random-weight model: whatever they favour, every constrained output
/// must parse and validate against its schema, checked by an independent validator (JsonSchema.Net).
/// </summary>
public sealed class ConstrainedSamplingTests(Gpt2TokenizerFixture fixture) : IClassFixture<Gpt2TokenizerFixture>
{
    private const int Seeds = 50;

    private static readonly EvaluationOptions Strict = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };

    private ITextTokenizer Tokenizer => fixture.Tokenizer;

    [Theory]
    [MemberData(nameof(StructuredOutputSchemas.All), MemberType = typeof(StructuredOutputSchemas))]
    public void Every_seed_yields_json_valid_against_the_schema(string name, string schemaJson)
    {
        var cache = TokenGrammarCache.For(Tokenizer);
        var spec = GrammarSpec.JsonSchema(schemaJson);
        var validator = JsonSchema.FromText(schemaJson);
        for (ulong seed = 1; seed <= Seeds; seed++)
        {
            var (text, ended) = Generate(cache.CreateProcessor(spec, 160), seed, 160);
            AssertValid(validator, text, $"{name} seed {seed} (ended with EOS: {ended})");
        }
    }

    [Fact]
    public void A_tight_token_budget_still_closes_the_json()
    {
        var cache = TokenGrammarCache.For(Tokenizer);
        var spec = GrammarSpec.JsonSchema(StructuredOutputSchemas.TenFields);
        var validator = JsonSchema.FromText(StructuredOutputSchemas.TenFields);
        int minimum = cache.Get(spec).Distance(TokenGrammar.StartState);
        for (ulong seed = 1; seed <= Seeds; seed++)
        {
            // Just enough tokens for the shortest valid output written byte by byte.
            int budget = minimum + (int)(seed % 7);
            var (text, _) = Generate(cache.CreateProcessor(spec, budget), seed, budget);
            AssertValid(validator, text, $"budget {budget} seed {seed}");
        }
    }

    [Fact]
    public void Json_object_regex_and_choice_outputs_match()
    {
        var cache = TokenGrammarCache.For(Tokenizer);
        var date = new System.Text.RegularExpressions.Regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}( [a-z]+)?$");
        for (ulong seed = 1; seed <= Seeds; seed++)
        {
            var (json, _) = Generate(cache.CreateProcessor(GrammarSpec.JsonObject, 120), seed, 120);
            using (var document = JsonDocument.Parse(json))
                Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);

            var (regexText, _) = Generate(cache.CreateProcessor(GrammarSpec.Regex("[0-9]{4}-[0-9]{2}-[0-9]{2}( [a-z]+)?"), 40), seed, 40);
            Assert.Matches(date, regexText);

            var (choice, ended) = Generate(cache.CreateProcessor(GrammarSpec.Choice(["positive", "negative", "neutral"]), 10), seed, 10);
            Assert.Contains(choice, new[] { "positive", "negative", "neutral" });
            Assert.True(ended);
        }
    }

    [Fact]
    public void Masks_from_the_trie_equal_a_scan_of_the_vocabulary()
    {
        var grammar = TokenGrammarCache.For(Tokenizer).Get(GrammarSpec.JsonSchema(StructuredOutputSchemas.NestedObjects));
        var vocabulary = grammar.Vocabulary;
        // Walk one output and compare the mask of every state it passes through.
        var processor = new GrammarLogitsProcessor(grammar, 200);
        var (text, _) = Generate(processor, 3, 200);
        int state = TokenGrammar.StartState;
        foreach (int token in Tokenizer.Encode(text, addBos: false).Take(25))
        {
            var expected = Enumerable.Range(0, vocabulary.Count).Where(t => grammar.Advance(state, t) >= 0).ToHashSet();
            if (grammar.IsAccepting(state))
                expected.UnionWith(vocabulary.EosTokenIds);
            Assert.Equal(expected.Order(), grammar.AllowedTokens(state).Order());
            state = grammar.Advance(state, token);
            Assert.True(state >= 0);
        }
    }

    [Fact]
    public void Eos_is_admitted_only_where_the_output_is_complete()
    {
        var grammar = TokenGrammarCache.For(Tokenizer).Get(GrammarSpec.Choice(["ab", "abcd"]));
        int eos = Tokenizer.EosTokenIds[0];
        int s = TokenGrammar.StartState;
        Assert.DoesNotContain(eos, grammar.AllowedTokens(s));
        s = grammar.Advance(s, Tokenizer.Encode("ab", addBos: false).Single());
        Assert.Contains(eos, grammar.AllowedTokens(s));
        Assert.Contains(Tokenizer.Encode("cd", addBos: false).Single(), grammar.AllowedTokens(s));
    }

    private (string Text, bool EndedWithEos) Generate(GrammarLogitsProcessor processor, ulong seed, int maxTokens)
    {
        var sampler = new SequenceSampler(new SamplingParams { Temperature = 1f, Seed = seed, MaxNewTokens = maxTokens }, [], processor);
        var rng = new Random((int)seed * 7919);
        var logits = new float[Tokenizer.VocabularySize];
        var generated = new List<int>();
        for (int step = 0; step < maxTokens; step++)
        {
            for (int i = 0; i < logits.Length; i++)
                logits[i] = (float)(rng.NextDouble() * 8);
            int token = sampler.Sample(logits);
            sampler.Accept(token);
            if (Tokenizer.EosTokenIds.Contains(token))
                return (Tokenizer.Decode(generated), true);
            generated.Add(token);
        }
        return (Tokenizer.Decode(generated), false);
    }

    private static void AssertValid(JsonSchema validator, string text, string what)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            Assert.Fail($"{what}: not JSON ({e.Message}): {text}");
            return;
        }
        using (document)
        {
            var result = validator.Evaluate(document.RootElement, Strict);
            if (!result.IsValid)
            {
                string errors = string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null)
                    .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));
                Assert.Fail($"{what}: invalid ({errors}): {text}");
            }
        }
    }
}

using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Sampling;
using OrleansLora.Engine.Tests.Support;
using OrleansLora.Engine.Tests.Tokenization;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Generation;

/// <summary>
/// An empty text prompt behaves as Hugging Face's: the tokenizer's BOS token alone where it adds one (Llama-2), refused with a message that says so where it adds none (Qwen3). Real tokenizer files.
/// </summary>
public sealed class EmptyPromptTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void The_tokenizer_makes_an_empty_prompt_its_bos_token_only_where_it_adds_one()
    {
        Assert.Equal([1], Tokenizer("llama2").Encode("", addBos: true)); // <s>: its post-processor adds it
        // As Hugging Face's tokenizers library does with these files: neither post-processor adds a BOS (this
        // packaging of Llama-3 has no TemplateProcessing step, Qwen3 never adds one).
        Assert.Empty(Tokenizer("llama3").Encode("", addBos: true));
        Assert.Empty(Tokenizer("qwen3").Encode("", addBos: true));
    }

    [Fact]
    public async Task An_empty_prompt_generates_from_the_bos_token_alone()
    {
        var tokenizer = Tokenizer("llama2");
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = 64 });
        using var engine = new InferenceEngine(llama, tokenizer, new InferenceEngineOptions { ModelPath = model.Path, MaxSequenceLength = 64, MaxBatchSize = 1, KvCacheBytes = 1 << 20 });
        GenerationUsage? usage = null;
        await foreach (var chunk in engine.GenerateAsync(new GenerationRequest { Prompt = "", Sampling = new SamplingParams { Temperature = 0, MaxNewTokens = 3, IgnoreEos = true } }))
            usage = chunk.Usage ?? usage;
        Assert.Equal(1, usage!.PromptTokens);
        Assert.Equal(3, usage.CompletionTokens);
    }

    [Fact]
    public async Task An_empty_prompt_is_refused_where_the_tokenizer_adds_no_bos()
    {
        var tokenizer = Tokenizer("qwen3");
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = 64 });
        using var engine = new InferenceEngine(llama, tokenizer, new InferenceEngineOptions { ModelPath = model.Path, MaxSequenceLength = 64, MaxBatchSize = 1, KvCacheBytes = 1 << 20 });
        var ex = await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await foreach (var _ in engine.GenerateAsync(new GenerationRequest { Prompt = "", Sampling = new SamplingParams { MaxNewTokens = 3 } }))
            {
            }
        });
        Assert.Contains("adds no BOS token", ex.Message);
        Assert.Equal("request", ex.ParamName);
    }

    private static ITextTokenizer Tokenizer(string name) => TokenizerLoader.Load(RepositoryFiles.TokenizerPackage(name));
}

using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Generation;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Tests.Support;
using OrleansLora.Engine.Tokenization;

namespace OrleansLora.Engine.Tests.Generation;

/// <summary>Misuse of the public engine and model API is refused before it can hang or corrupt state.</summary>
public sealed class EngineGuardTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void ConstructorValidatesOptions()
    {
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = 64 });
        var tokenizer = TokenizerLoader.Load(model.Path);
        var ex = Assert.Throws<ArgumentException>(() => new InferenceEngine(llama, tokenizer, new InferenceEngineOptions { ModelPath = model.Path, MaxBatchSize = 0 }));
        Assert.Contains("MaxBatchSize", ex.Message);
        Assert.Throws<ArgumentException>(() => new InferenceEngine(llama, tokenizer, new InferenceEngineOptions { ModelPath = model.Path, MaxBatchSize = 8, MaxBatchTokens = 4 }));
        var dtype = Assert.Throws<ArgumentException>(() => new InferenceEngine(llama, tokenizer, new InferenceEngineOptions { ModelPath = model.Path, AdapterDtype = "float16" }));
        Assert.Contains("OrleansLora:Engine:AdapterDtype", dtype.Message);
    }

    [Theory]
    [InlineData(-1, 1)]
    [InlineData(2, 1)]  // beyond the cache's two slots
    [InlineData(0, 0)]  // the same slot twice
    public void ForwardRefusesSlotsOutsideTheCacheOrRepeated(int first, int second)
    {
        using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = 16 });
        using var cache = llama.CreateKvCache(new KvCacheOptions { MaxSequenceLength = 16, MaxSlots = 2 });
        using var batch = new ForwardBatch([new BatchSequence(first, 0, 1), new BatchSequence(second, 0, 1)], [1, 2], 16);
        var ex = Assert.Throws<ArgumentException>(() => llama.Forward(batch, cache).Dispose());
        Assert.Contains("slot", ex.Message);
    }

    [Fact]
    public void DisposeIsIdempotentAndLaterRequestsAreRefused()
    {
        var engine = InferenceEngine.Create(new InferenceEngineOptions { ModelPath = model.Path, MaxSequenceLength = 64, MaxBatchSize = 1, MaxBatchTokens = 64, KvCacheBytes = 1 << 20 });
        engine.Dispose();
        engine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => engine.GenerateAsync(new GenerationRequest { PromptTokens = [1, 2, 3] }));
    }
}

using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Tests.Support;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Tests.Modeling;

/// <summary>A small forward runs libtorch on its own thread only, and leaves the caller's thread count as it found it.</summary>
public sealed class TorchThreadsTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    [Fact]
    public void A_small_batch_restores_the_callers_torch_thread_count()
    {
        int before = get_num_threads();
        set_num_threads(2);
        try
        {
            using (TorchThreads.One())
                Assert.Equal(1, get_num_threads());
            Assert.Equal(2, get_num_threads());

            using var llama = LlamaModel.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = 32 });
            using var cache = llama.CreatePagedKvCache(1L << 20, 16, 32, 4);
            using var batch = new ForwardBatch([new BatchSequence(0, 0, 3, -1, [0, 1])], [1, 2, 3], 32);
            Assert.True(batch.TokenCount <= LlamaModel.SingleThreadTokens);
            llama.Forward(batch, cache).Dispose();
            Assert.Equal(2, get_num_threads());
        }
        finally
        {
            set_num_threads(before);
        }
    }
}

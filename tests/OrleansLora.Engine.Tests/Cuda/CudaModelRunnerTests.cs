using OrleansLora.Engine.Cuda;
using OrleansLora.Engine.ModelInit;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Runners;

namespace OrleansLora.Engine.Tests.Cuda;

/// <summary>
/// CudaModelRunner's argument checks (before the library is touched) and its no-GPU error, on the real library
/// when scripts/test.sh built it (OLORA_CUDA_LIBRARY), else on the "library not found" path.
/// </summary>
public sealed class CudaModelRunnerTests
{
    private static readonly ModelRunnerOptions Options = new() { MaxLoras = 4, MaxLoraRank = 64, MaxSequences = 8 };

    [Theory]
    [InlineData("tiny")]
    [InlineData("mistral-7b")]
    public void ThePresetsPassValidation(string preset) => CudaModelRunner.Validate(0, ModelPresets.Get(preset), Options);

    [Fact]
    public void EveryValueTheKernelsCannotServeIsRefusedNamingIt()
    {
        var tiny = ModelPresets.Tiny;
        Assert.Equal("device", Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Validate(-1, tiny, Options)).ParamName);
        Assert.Throws<ArgumentNullException>(() => CudaModelRunner.Validate(0, null!, Options));
        Assert.Throws<ArgumentNullException>(() => CudaModelRunner.Validate(0, tiny, null!));
        Assert.Throws<ModelFormatException>(() => CudaModelRunner.Validate(0, tiny with { VocabSize = 0 }, Options));
        Assert.Contains("head_dim 512", Assert.Throws<ArgumentException>(() => CudaModelRunner.Validate(0, tiny with { HeadDimRaw = 512 }, Options)).Message, StringComparison.Ordinal);
        Assert.Throws<ModelFormatException>(() => CudaModelRunner.Validate(0, tiny with { HeadDimRaw = 63 }, Options)); // config.json's own rule
        Assert.Throws<ModelFormatException>(() => CudaModelRunner.Validate(0, tiny with { NumAttentionHeads = 4, NumKeyValueHeadsRaw = 3 }, Options));
        Assert.Throws<ModelFormatException>(() => CudaModelRunner.Validate(0, tiny with { RopeScaling = new RopeScaling { RopeType = "dynamic" } }, Options));
        Assert.Contains("[1, 128]", Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Validate(0, tiny, Options with { MaxLoraRank = 129 })).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Validate(0, tiny, Options with { MaxLoraRank = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Validate(0, tiny, Options with { MaxLoras = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Validate(0, tiny, Options with { MaxSequences = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Validate(0, tiny, Options with { KvCacheBytes = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Validate(0, tiny, Options with { MaxSequenceLength = -1 }));
        Assert.Contains("bfloat16", Assert.Throws<ArgumentException>(() => CudaModelRunner.Validate(0, tiny, Options with { AdapterDtype = "float32" })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidArgumentsWinOverTheMissingGpu() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Create(0, ModelPresets.Tiny, Options with { MaxLoraRank = 500 }));

    [Fact]
    public void WithoutAGpuCreateFailsWithTheReasonAndWithOneTheForwardSaysItIsMissing()
    {
        var cuda = CudaLibrary.Probe();
        if (!cuda.Available)
        {
            var ex = Assert.Throws<CudaException>(() => CudaModelRunner.Create(0, ModelPresets.Tiny, Options));
            Assert.Equal(CudaStatus.NoDevice, ex.Status);
            Assert.Equal($"cuda:0: {cuda.Reason}", ex.Message);
            return;
        }
        using var runner = CudaModelRunner.Create(0, ModelPresets.Tiny, Options);
        Assert.Equal(8, runner.SequenceSlots);
        Assert.True(runner.TryAllocateSequence(out int slot));
        Assert.Equal(7, runner.FreeSequenceSlots);
        runner.FreeSequence(slot);
        Assert.Throws<InvalidOperationException>(() => runner.FreeSequence(slot));
        var batch = new ModelBatch([], [], []);
        Assert.Equal(CudaModelRunner.NotImplemented, Assert.Throws<NotSupportedException>(() => runner.Forward(batch)).Message);
    }
}

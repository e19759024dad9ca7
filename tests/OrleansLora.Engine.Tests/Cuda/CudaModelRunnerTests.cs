using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Cuda;
using OrleansLora.Engine.ModelInit;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Quantization;
using OrleansLora.Engine.Runners;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Cuda;

/// <summary>
/// CudaModelRunner's argument checks (before the library is touched) and, for a real device, its no-GPU error: on the
/// real library when scripts/test.sh built it (OLORA_CUDA_LIBRARY), else on the "library not found" path.
/// </summary>
public sealed class CudaModelRunnerTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    private static readonly ModelRunnerOptions Options = new() { MaxLoras = 4, MaxLoraRank = 64, MaxSequences = 8 };

    [Theory]
    [InlineData("tiny")]
    [InlineData("mistral-7b")]
    public void ThePresetsPassValidation(string preset)
    {
        CudaModelRunner.Validate(0, ModelPresets.Get(preset), Options);
        CudaModelRunner.Validate(CudaContext.HostDevice, ModelPresets.Get(preset), Options, new ModelLoadOptions { Quantization = QuantizationMode.Nf4 });
    }

    [Fact]
    public void EveryValueTheKernelsCannotServeIsRefusedNamingIt()
    {
        var tiny = ModelPresets.Tiny;
        Assert.Equal("device", Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Validate(-2, tiny, Options)).ParamName);
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
        Assert.Contains("paged only", Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Validate(0, tiny, Options with { KvBlockSize = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("bfloat16", Assert.Throws<ArgumentException>(() => CudaModelRunner.Validate(0, tiny, Options with { AdapterDtype = "float32" })).Message, StringComparison.Ordinal);
        Assert.Contains("quantization mode 7", Assert.Throws<ArgumentException>(() => CudaModelRunner.Validate(0, tiny, Options, new ModelLoadOptions { Quantization = (QuantizationMode)7 })).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Validate(0, tiny, Options, new ModelLoadOptions { MaxSequenceLength = -1 }));
    }

    [Fact]
    public void TheConfigStructAndModuleNumbersMirrorTheCHeader()
    {
        // olora_cuda_model_config: five doubles, one float, seventeen int32s; sizeof 112 under the x86-64 and AArch64 C ABIs.
        Assert.Equal(112, System.Runtime.InteropServices.Marshal.SizeOf<CudaModelConfig>());
        Assert.Equal(40, System.Runtime.InteropServices.Marshal.OffsetOf<CudaModelConfig>(nameof(CudaModelConfig.RmsNormEps)).ToInt32());
        Assert.Equal(44, System.Runtime.InteropServices.Marshal.OffsetOf<CudaModelConfig>(nameof(CudaModelConfig.RopeKind)).ToInt32());
        Assert.Equal(104, System.Runtime.InteropServices.Marshal.OffsetOf<CudaModelConfig>(nameof(CudaModelConfig.LmHeadFormat)).ToInt32());
        Assert.Equal(108, System.Runtime.InteropServices.Marshal.OffsetOf<CudaModelConfig>(nameof(CudaModelConfig.MaxBatchTokens)).ToInt32());
        // OLORA_CUDA_LORA_* are LoraTargetModules.All's positions, which the runner passes.
        int[] expected = [CudaNative.Lora.Q, CudaNative.Lora.K, CudaNative.Lora.V, CudaNative.Lora.O, CudaNative.Lora.Gate, CudaNative.Lora.Up, CudaNative.Lora.Down];
        Assert.Equal(expected, LoraTargetModules.All.Select(LoraTargetModules.IndexOf));
        Assert.Equal(CudaNative.Lora.Modules, LoraTargetModules.All.Count);
        Assert.Equal(CudaNative.HostDevice, CudaContext.HostDevice);
    }

    [Fact]
    public void InvalidArgumentsWinOverTheMissingGpu() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Load(model.Path, new ModelLoadOptions(), Options with { MaxLoraRank = 500 }, 0));

    [Fact]
    public void AKvBudgetBelowOneSequenceIsRefusedNamingTheSizes()
    {
        CudaHostLibrary.Require();
        // Tiny: 2 layers × 2 KV heads × 16 dims × 2 (K, V) × 2 bytes = 256 bytes a position; 1024 positions need 256 KiB.
        var ex = Assert.Throws<ArgumentException>(() => CudaModelRunner.Load(model.Path, new ModelLoadOptions(), Options with { KvCacheBytes = 64 << 10 }, CudaContext.HostDevice));
        Assert.Contains("one sequence of 1024 positions needs 64", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnARealDeviceWithoutAGpuLoadFailsWithTheReason()
    {
        var cuda = CudaLibrary.Probe();
        if (!cuda.Available)
        {
            var ex = Assert.Throws<CudaException>(() => CudaModelRunner.Load(model.Path, new ModelLoadOptions(), Options, 0));
            Assert.Equal(CudaStatus.NoDevice, ex.Status);
            Assert.Equal($"cuda:0: {cuda.Reason}", ex.Message);
            return;
        }
        // On a GPU machine (not run from here): the runner loads and says where it runs.
        using var runner = CudaModelRunner.Load(model.Path, new ModelLoadOptions(), Options with { MaxSequenceLength = 256 }, 0);
        Assert.False(runner.IsHostEmulation);
        Assert.Contains("not verified on a GPU", runner.Description, StringComparison.Ordinal);
        Assert.Equal("cuda", runner.DescribeDevice().Kind);
        Assert.Throws<ArgumentOutOfRangeException>(() => CudaModelRunner.Load(model.Path, new ModelLoadOptions(), Options, cuda.Devices.Count));
    }
}

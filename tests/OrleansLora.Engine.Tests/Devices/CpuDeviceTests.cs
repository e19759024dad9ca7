using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Caching;
using OrleansLora.Engine.Devices;
using OrleansLora.Engine.Modeling;
using OrleansLora.Engine.Native;
using OrleansLora.Engine.Runners;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Devices;

/// <summary>The CPU as a device: its name from /proc/cpuinfo text, and the memory a CPU runner reports it holds.</summary>
public sealed class CpuDeviceTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>
{
    // Two logical processors of an x86 machine, as Linux prints them: "model" (a number) precedes "model name".
    private const string X86 = """
        processor	: 0
        vendor_id	: GenuineIntel
        cpu family	: 6
        model		: 143
        model name	: Intel(R) Xeon(R) Platinum 8480+
        stepping	: 8

        processor	: 1
        vendor_id	: GenuineIntel
        model		: 143
        model name	: Some Other CPU
        """;

    // An ARM board's kernel: no "model name", a "Model" line at the end.
    private const string Arm = """
        processor	: 0
        BogoMIPS	: 108.00
        CPU implementer	: 0x41

        Hardware	: BCM2835
        Revision	: d03114
        Model		: Raspberry Pi 4 Model B Rev 1.4
        """;

    [Fact]
    public void The_model_name_is_the_first_processors()
    {
        Assert.Equal("Intel(R) Xeon(R) Platinum 8480+", CpuDevice.ParseModelName(X86));
        Assert.Equal("Intel(R) Xeon(R) Platinum 8480+", CpuDevice.ParseModelName(X86.Replace("\n", "\r\n", StringComparison.Ordinal)));
        Assert.Equal("Raspberry Pi 4 Model B Rev 1.4", CpuDevice.ParseModelName(Arm));
        Assert.Null(CpuDevice.ParseModelName("processor\t: 0\nmodel name\t:\nflags\t: fpu\n"));
        Assert.Null(CpuDevice.ParseModelName(""));
    }

    [Fact]
    public void The_cpu_runner_reports_its_weights_kv_cache_and_adapter_tables()
    {
        var options = new ModelRunnerOptions { KvCacheBytes = 1L << 20, MaxSequenceLength = 256, MaxSequences = 32, MaxLoras = 2, MaxLoraRank = 8 };
        using var runner = CpuModelRunner.Load(model.Path, new ModelLoadOptions { MaxSequenceLength = 256 }, options);
        // The KV blocks the budget really allocates (16-token blocks by default).
        var cache = runner.PagedCache!;
        long kv = (long)cache.BlockCount * cache.BytesPerBlock;
        Assert.InRange(kv, options.KvCacheBytes - cache.BytesPerBlock + 1, options.KvCacheBytes);
        Assert.True(cache.BlockCount < options.MaxSequences * 256 / cache.BlockSize); // the budget, not MaxSequences, limits it here

        var before = runner.DescribeDevice();
        Assert.Equal("cpu", before.Kind);
        Assert.EndsWith($" ({NativeKernels.Isa})", before.Name, StringComparison.Ordinal);
        Assert.True(before.Name.Length > NativeKernels.Isa.Length + 3, before.Name);
        long weights = runner.Model.WeightBytes;
        long files = Directory.GetFiles(model.Path, "*.safetensors").Sum(f => new FileInfo(f).Length);
        // float32 in memory, the checkpoint's dtype on disk (the embedding tied to the head): only the norms and the header differ.
        long widen = runner.Config.TorchDtype == "float32" ? 1 : 2;
        Assert.InRange(weights, files * widen * 9 / 10, files * widen);
        Assert.Equal(weights + kv, before.MemoryUsedBytes);
        Assert.True(before.MemoryTotalBytes > before.MemoryUsedBytes);

        // The adapter slot tables appear with the first adapter: 2 slots x rank 8 x every projection's (in + out), bfloat16.
        using var dir = new TempDirectory("olora-device-adapter");
        PeftAdapterWriter.WriteRandom(runner.Config, dir.Path, rank: 4, alpha: 8, targets: ["q_proj"], seed: 3);
        var adapter = runner.PrepareAdapter(dir.Path, new AdapterLoadOptions());
        try
        {
            runner.LoadAdapter(0, adapter);
        }
        finally
        {
            adapter.Release();
        }
        var c = runner.Config;
        long perLayer = LoraTargetModules.All.Sum(m => { var (inF, outF) = LoraTargetModules.Dimensions(c, m); return (long)(inF + outF); });
        Assert.Equal(weights + kv + c.NumHiddenLayers * 2L * 8 * perLayer * 2, runner.DescribeDevice().MemoryUsedBytes);
    }
}

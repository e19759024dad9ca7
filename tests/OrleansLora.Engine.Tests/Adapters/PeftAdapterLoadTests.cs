using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Adapters;

/// <summary>Random PEFT adapters written for the tiny model load with the right shapes and folded scaling.</summary>
public sealed class PeftAdapterLoadTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>, IDisposable
{
    private readonly TempDirectory _dir = new("olora-adapter");
    private readonly ModelConfig _base = ModelConfig.Load(model.Path);

    private string Write(string name, int rank, double alpha, IReadOnlyList<string> targets, ulong seed = 7, bool rsLora = false)
    {
        string dir = _dir.File(name);
        PeftAdapterWriter.WriteRandom(_base, dir, rank, alpha, targets, seed, rsLora);
        return dir;
    }

    /// <summary>Every A equals the file's A; every B equals the file's B times the expected scale.</summary>
    private void AssertMatchesFile(PeftAdapter adapter, string dir, double scale)
    {
        foreach (string module in adapter.TargetModules)
        {
            var (inFeatures, outFeatures) = LoraTargetModules.Dimensions(_base, module);
            for (int layer = 0; layer < _base.NumHiddenLayers; layer++)
            {
                var w = adapter.Get(layer, module);
                Assert.NotNull(w);
                Assert.Equal(new long[] { adapter.Rank, inFeatures }, w.A.shape);
                Assert.Equal(new long[] { outFeatures, adapter.Rank }, w.B.shape);
                Assert.Equal(TorchSharp.torch.ScalarType.Float32, w.A.dtype);
                Assert.Equal(TorchSharp.torch.ScalarType.Float32, w.B.dtype);

                float[] rawA = AdapterTestFiles.RawFloats(dir, LoraTargetModules.PeftKey(layer, module, isB: false));
                float[] rawB = AdapterTestFiles.RawFloats(dir, LoraTargetModules.PeftKey(layer, module, isB: true));
                Assert.Equal(rawA, w.A.data<float>().ToArray());
                float[] loadedB = w.B.data<float>().ToArray();
                Assert.Equal(rawB.Length, loadedB.Length);
                Assert.Contains(rawB, v => v != 0);
                for (int i = 0; i < rawB.Length; i++)
                {
                    double expected = rawB[i] * scale;
                    Assert.True(Math.Abs(loadedB[i] - expected) <= 1e-6 * Math.Abs(expected) + 1e-12, $"{module} layer {layer} B[{i}]: {loadedB[i]} vs {expected}");
                }
            }
        }
    }

    [Fact]
    public void AllTargetsLoadWithShapesAndScalingFoldedIntoB()
    {
        string dir = Write("all", rank: 8, alpha: 16, LoraTargetModules.All);
        using var adapter = PeftAdapter.Load(dir, _base, new AdapterLoadOptions());
        Assert.Equal(8, adapter.Rank);
        Assert.Equal(2.0, adapter.Scaling);
        Assert.Equal(LoraTargetModules.All, adapter.TargetModules);
        Assert.Equal("all", adapter.Name);
        Assert.Equal(_base.NumHiddenLayers * LoraTargetModules.All.Count, adapter.Weights.Count);
        AssertMatchesFile(adapter, dir, scale: 16.0 / 8);
    }

    [Fact]
    public void RsLoraScalesByAlphaOverSqrtRank()
    {
        string dir = Write("rs", rank: 16, alpha: 8, [LoraTargetModules.QProj, LoraTargetModules.DownProj], rsLora: true);
        using var adapter = PeftAdapter.Load(dir, _base, new AdapterLoadOptions());
        Assert.Equal(2.0, adapter.Scaling);
        Assert.True(adapter.Config.UseRsLora);
        AssertMatchesFile(adapter, dir, scale: 8 / Math.Sqrt(16));
    }

    [Fact]
    public void TargetSubsetLoadsOnlyThoseModules()
    {
        string dir = Write("qv", rank: 4, alpha: 4, LoraTargetModules.Parse("v_proj,q_proj"));
        using var adapter = PeftAdapter.Load(dir, _base, new AdapterLoadOptions { Name = "qv-adapter" });
        Assert.Equal([LoraTargetModules.QProj, LoraTargetModules.VProj], adapter.TargetModules);
        Assert.Equal("qv-adapter", adapter.Name);
        Assert.Null(adapter.Get(0, LoraTargetModules.KProj));
        Assert.Null(adapter.Get(1, LoraTargetModules.GateProj));
        Assert.Equal(2 * _base.NumHiddenLayers, adapter.Weights.Count);
        AssertMatchesFile(adapter, dir, scale: 1.0);
    }

    [Fact]
    public void SameSeedWritesIdenticalFilesAndOtherSeedsDiffer()
    {
        string a = Write("s1", 8, 16, LoraTargetModules.All, seed: 3);
        string b = Write("s2", 8, 16, LoraTargetModules.All, seed: 3);
        string c = Write("s3", 8, 16, LoraTargetModules.All, seed: 4);
        byte[] bytesA = File.ReadAllBytes(Path.Combine(a, PeftAdapter.WeightsFileName));
        Assert.Equal(bytesA, File.ReadAllBytes(Path.Combine(b, PeftAdapter.WeightsFileName)));
        Assert.NotEqual(bytesA, File.ReadAllBytes(Path.Combine(c, PeftAdapter.WeightsFileName)));
        Assert.Equal(File.ReadAllText(Path.Combine(a, PeftAdapterConfig.FileName)), File.ReadAllText(Path.Combine(b, PeftAdapterConfig.FileName)));
    }

    [Fact]
    public void ConfigIsWrittenInPeftLayout()
    {
        string dir = Write("cfg", rank: 8, alpha: 16, [LoraTargetModules.QProj, LoraTargetModules.VProj]);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftAdapterConfig.FileName)))!.AsObject();
        Assert.Equal("LORA", (string?)json["peft_type"]);
        Assert.Equal(8, (int?)json["r"]);
        Assert.Equal("16", json["lora_alpha"]!.ToJsonString());
        Assert.Equal("none", (string?)json["bias"]);
        Assert.False((bool?)json["use_dora"]);
        Assert.False((bool?)json["use_rslora"]);
        Assert.Equal(["q_proj", "v_proj"], json["target_modules"]!.AsArray().Select(n => (string?)n));
        var keys = json.Select(p => p.Key).ToList();
        Assert.Equal(keys.OrderBy(k => k, StringComparer.Ordinal), keys);
    }

    [Fact]
    public void StringTargetModulesAreMatchedLikePeft()
    {
        string dir = Write("regex", rank: 4, alpha: 8, [LoraTargetModules.QProj, LoraTargetModules.VProj]);
        AdapterTestFiles.EditConfig(dir, j => j["target_modules"] = @".*\.(q_proj|v_proj)");
        using (var adapter = PeftAdapter.Load(dir, _base, new AdapterLoadOptions()))
            Assert.Equal([LoraTargetModules.QProj, LoraTargetModules.VProj], adapter.TargetModules);

        string all = Write("all-linear", rank: 4, alpha: 8, LoraTargetModules.All);
        AdapterTestFiles.EditConfig(all, j => j["target_modules"] = "all-linear");
        using (var adapter = PeftAdapter.Load(all, _base, new AdapterLoadOptions()))
            Assert.Equal(LoraTargetModules.All, adapter.TargetModules);
    }

    [Fact]
    public void DefaultAdapterNameInKeysIsAccepted()
    {
        string dir = Write("default", rank: 4, alpha: 4, [LoraTargetModules.OProj]);
        AdapterTestFiles.RewriteWeights(dir, n => n.Replace(".weight", ".default.weight", StringComparison.Ordinal));
        using var adapter = PeftAdapter.Load(dir, _base, new AdapterLoadOptions());
        Assert.NotNull(adapter.Get(1, LoraTargetModules.OProj));
    }

    [Fact]
    public void FanInFanOutIsIgnoredForLinearTargetsLikePeft()
    {
        string dir = Write("fifo", rank: 4, alpha: 4, [LoraTargetModules.UpProj]);
        AdapterTestFiles.EditConfig(dir, j => j["fan_in_fan_out"] = true);
        using var adapter = PeftAdapter.Load(dir, _base, new AdapterLoadOptions());
        AssertMatchesFile(adapter, dir, scale: 1.0);
    }

    [Fact]
    public void LayersToTransformRestrictsLayers()
    {
        string dir = Write("layers", rank: 4, alpha: 4, [LoraTargetModules.KProj]);
        AdapterTestFiles.EditConfig(dir, j => j["layers_to_transform"] = new System.Text.Json.Nodes.JsonArray(1));
        AdapterTestFiles.RewriteWeights(dir, n => n.Contains(".layers.0.", StringComparison.Ordinal) ? null : n);
        using var adapter = PeftAdapter.Load(dir, _base, new AdapterLoadOptions());
        Assert.Null(adapter.Get(0, LoraTargetModules.KProj));
        Assert.NotNull(adapter.Get(1, LoraTargetModules.KProj));
    }

    [Fact]
    public void TargetsParseRejectsUnknownNames()
    {
        Assert.Equal(LoraTargetModules.All, LoraTargetModules.Parse("all"));
        var ex = Assert.Throws<ArgumentException>(() => LoraTargetModules.Parse("q_proj,lm_head"));
        Assert.Contains("lm_head", ex.Message);
    }

    /// <summary>
    /// The engine's cold-load path (one file read, native strided copies) puts every factor where
    /// the slot layout wants it: A rows as in the file, Bᵀ = (B · scale)ᵀ computed here in float32
    /// and, for bfloat16, rounded to nearest even; projections the adapter skips have rank 0. The
    /// two-step path (PeftAdapter.Load, then From) gives the same bits.
    /// </summary>
    [Theory]
    [InlineData("float32")]
    [InlineData("bfloat16")]
    public void PreparedLoadPutsTheFileFactorsInSlotLayout(string dtypeName)
    {
        var dtype = dtypeName == "float32" ? TorchSharp.torch.ScalarType.Float32 : TorchSharp.torch.ScalarType.BFloat16;
        const int rank = 5;
        string dir = Write("prepared", rank, alpha: 7.0, ["q_proj", "v_proj", "down_proj"], seed: 21, rsLora: true);
        float scale = (float)(7.0 / Math.Sqrt(rank));
        var prepared = PreparedAdapter.Load(dir, _base, dtype);
        PreparedAdapter? twoStep = null;
        try
        {
            using (var peft = PeftAdapter.Load(dir, _base))
                twoStep = PreparedAdapter.From(peft, dtype);
            Func<float, float> stored = dtype == TorchSharp.torch.ScalarType.Float32 ? v => v : ReferenceCheckpoints.RoundToBFloat16;
            var modules = prepared.Modules.ToDictionary(kv => kv.Key, kv => kv.Value);
            Assert.Equal(["q_proj", "v_proj", "down_proj"], modules.Keys.OrderBy(LoraTargetModules.IndexOf));
            foreach (var (module, (a, bt)) in modules)
            {
                var (inFeatures, outFeatures) = LoraTargetModules.Dimensions(_base, module);
                float[] gotA = a.to(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray();   // [layers, r, in]
                float[] gotBt = bt.to(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray(); // [layers, r, out]
                for (int layer = 0; layer < _base.NumHiddenLayers; layer++)
                {
                    Assert.Equal(rank, prepared.Ranks[layer, LoraTargetModules.IndexOf(module)]);
                    float[] rawA = AdapterTestFiles.RawFloats(dir, LoraTargetModules.PeftKey(layer, module, isB: false));
                    float[] rawB = AdapterTestFiles.RawFloats(dir, LoraTargetModules.PeftKey(layer, module, isB: true)); // [out, r]
                    Assert.Equal(rawA.Select(stored), gotA.AsSpan(layer * rank * inFeatures, rank * inFeatures).ToArray());
                    var expectedBt = new float[rank * outFeatures];
                    for (int k = 0; k < rank; k++)
                        for (int o = 0; o < outFeatures; o++)
                            expectedBt[k * outFeatures + o] = stored(rawB[o * rank + k] * scale);
                    Assert.Equal(expectedBt, gotBt.AsSpan(layer * rank * outFeatures, rank * outFeatures).ToArray());
                }
                var (twoA, twoBt) = twoStep.Modules.Single(kv => kv.Key == module).Value;
                Assert.Equal(gotA, twoA.to(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray());
                Assert.Equal(gotBt, twoBt.to(TorchSharp.torch.ScalarType.Float32).data<float>().ToArray());
            }
            Assert.Equal(0, prepared.Ranks[0, LoraTargetModules.IndexOf("k_proj")]);
        }
        finally
        {
            prepared.Release();
            twoStep?.Release();
        }
    }

    public void Dispose() => _dir.Dispose();
}

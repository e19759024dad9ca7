using System.Text.Json.Nodes;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Tests.Support;

namespace OrleansLora.Engine.Tests.Adapters;

/// <summary>Every adapter the engine cannot serve is refused with a message naming the file, tensor and problem.</summary>
public sealed class PeftAdapterRefusalTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>, IDisposable
{
    private readonly TempDirectory _dir = new("olora-adapter-bad");
    private readonly ModelConfig _base = ModelConfig.Load(model.Path);

    private string Write(int rank = 8, IReadOnlyList<string>? targets = null, ModelConfig? shapeFrom = null)
    {
        string dir = _dir.File($"a{Guid.NewGuid():n}");
        PeftAdapterWriter.WriteRandom(shapeFrom ?? _base, dir, rank, 16, targets ?? LoraTargetModules.All, seed: 11);
        return dir;
    }

    private ModelFormatException Refused(string dir, AdapterLoadOptions? options = null) =>
        Assert.Throws<ModelFormatException>(() => PeftAdapter.Load(dir, _base, options ?? new AdapterLoadOptions()).Dispose());

    private static string ConfigFile(string dir) => Path.Combine(dir, PeftAdapterConfig.FileName);
    private static string WeightsFile(string dir) => Path.Combine(dir, PeftAdapter.WeightsFileName);

    [Fact]
    public void PickledBinWeightsNameSafetensorsAsTheFix()
    {
        string dir = Write();
        File.Delete(WeightsFile(dir));
        File.WriteAllBytes(Path.Combine(dir, PeftAdapter.PickledWeightsFileName), [0x80, 0x02]);
        var ex = Refused(dir);
        Assert.EndsWith(PeftAdapter.PickledWeightsFileName, ex.File);
        Assert.Contains("pickled", ex.Message);
        Assert.Contains("convert them to safetensors", ex.Message);
    }

    [Fact]
    public void MissingWeightsFileIsNamed()
    {
        string dir = Write();
        File.Delete(WeightsFile(dir));
        var ex = Refused(dir);
        Assert.Equal(WeightsFile(dir), ex.File);
        Assert.Contains("not found", ex.Message);
    }

    [Fact]
    public void MissingConfigIsNamed()
    {
        string dir = Write();
        File.Delete(ConfigFile(dir));
        var ex = Refused(dir);
        Assert.Equal(ConfigFile(dir), ex.File);
        Assert.Contains("adapter_config.json not found", ex.Message);
    }

    [Fact]
    public void DoraIsRefused()
    {
        string dir = Write();
        AdapterTestFiles.EditConfig(dir, j => j["use_dora"] = true);
        var ex = Refused(dir);
        Assert.Equal(ConfigFile(dir), ex.File);
        Assert.Contains("use_dora", ex.Message);
        Assert.Contains("DoRA", ex.Message);
    }

    [Fact]
    public void DoraMagnitudeTensorIsRefused()
    {
        string dir = Write(targets: [LoraTargetModules.QProj]);
        AdapterTestFiles.RewriteWeights(dir, n => n, [("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", [_base.HiddenSize])]);
        var ex = Refused(dir);
        Assert.Equal("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", ex.Tensor);
        Assert.Contains("DoRA", ex.Message);
    }

    [Fact]
    public void ModulesToSaveIsRefused()
    {
        string dir = Write();
        AdapterTestFiles.EditConfig(dir, j => j["modules_to_save"] = new JsonArray("lm_head", "embed_tokens"));
        var ex = Refused(dir);
        Assert.Contains("modules_to_save", ex.Message);
        Assert.Contains("lm_head", ex.Message);
    }

    [Fact]
    public void ModulesToSaveTensorIsRefused()
    {
        string dir = Write(targets: [LoraTargetModules.QProj]);
        AdapterTestFiles.RewriteWeights(dir, n => n, [("base_model.model.lm_head.modules_to_save.default.weight", [4, _base.HiddenSize])]);
        var ex = Refused(dir);
        Assert.Equal("base_model.model.lm_head.modules_to_save.default.weight", ex.Tensor);
        Assert.Contains("not a LoRA weight", ex.Message);
    }

    [Theory]
    [InlineData("all")]
    [InlineData("lora_only")]
    public void BiasOtherThanNoneIsRefused(string bias)
    {
        string dir = Write();
        AdapterTestFiles.EditConfig(dir, j => j["bias"] = bias);
        var ex = Refused(dir);
        Assert.Contains($"bias \"{bias}\"", ex.Message);
        Assert.Contains("none", ex.Message);
    }

    [Fact]
    public void OtherPeftTypesAreRefused()
    {
        string dir = Write();
        AdapterTestFiles.EditConfig(dir, j => j["peft_type"] = "PREFIX_TUNING");
        var ex = Refused(dir);
        Assert.Contains("PREFIX_TUNING", ex.Message);
        Assert.Contains("only LORA", ex.Message);
    }

    [Fact]
    public void RankAboveTheMaximumIsRefused()
    {
        string dir = Write(rank: 8);
        var ex = Refused(dir, new AdapterLoadOptions { MaxRank = 4 });
        Assert.Contains("r = 8", ex.Message);
        Assert.Contains("maximum of 4", ex.Message);

        Assert.Equal(128, new AdapterLoadOptions().MaxRank);
        string big = Write(rank: 129, targets: [LoraTargetModules.VProj]);
        Assert.Contains("maximum of 128", Refused(big).Message);
    }

    [Fact]
    public void UnknownTargetModuleInConfigIsRefused()
    {
        string dir = Write();
        AdapterTestFiles.EditConfig(dir, j => j["target_modules"] = new JsonArray("q_proj", "embed_tokens"));
        var ex = Refused(dir);
        Assert.Contains("unknown target module \"embed_tokens\"", ex.Message);
    }

    [Fact]
    public void UnknownTargetModuleInWeightsIsRefused()
    {
        string dir = Write(targets: [LoraTargetModules.QProj]);
        const string key = "base_model.model.model.layers.0.self_attn.qkv_proj.lora_A.weight";
        AdapterTestFiles.RewriteWeights(dir, n => n, [(key, [8, _base.HiddenSize])]);
        var ex = Refused(dir);
        Assert.Equal(key, ex.Tensor);
        Assert.Contains("unknown target module", ex.Message);
        Assert.Contains("qkv_proj", ex.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MissingLoraKeyIsNamed(bool dropB)
    {
        string dir = Write(targets: [LoraTargetModules.QProj, LoraTargetModules.GateProj]);
        string missing = LoraTargetModules.PeftKey(1, LoraTargetModules.GateProj, dropB);
        AdapterTestFiles.RewriteWeights(dir, n => n == missing ? null : n);
        var ex = Refused(dir);
        Assert.Equal(WeightsFile(dir), ex.File);
        Assert.Equal(missing, ex.Tensor);
        Assert.Contains("missing", ex.Message);
        Assert.Contains("gate_proj", ex.Message);
    }

    [Fact]
    public void WeightsForUntargetedModuleAreRefused()
    {
        string dir = Write(targets: [LoraTargetModules.QProj, LoraTargetModules.KProj]);
        AdapterTestFiles.EditConfig(dir, j => j["target_modules"] = new JsonArray("q_proj"));
        var ex = Refused(dir);
        Assert.Contains("k_proj", ex.Tensor);
        Assert.Contains("not covered by target_modules", ex.Message);
    }

    [Fact]
    public void ShapeNotMatchingTheBaseModelIsRefused()
    {
        // Trained for a model with a wider MLP: down_proj's A has the wrong in-features.
        string dir = Write(targets: [LoraTargetModules.DownProj], shapeFrom: _base with { IntermediateSize = _base.IntermediateSize + 16 });
        var ex = Refused(dir);
        Assert.Contains("down_proj.lora_A", ex.Tensor);
        Assert.Contains($"[8, {_base.IntermediateSize + 16}]", ex.Message);
        Assert.Contains($"in = {_base.IntermediateSize}", ex.Message);
        Assert.Contains("does not match the base model", ex.Message);
    }

    [Fact]
    public void RankNotMatchingTheConfigIsRefused()
    {
        string dir = Write(rank: 8, targets: [LoraTargetModules.VProj]);
        AdapterTestFiles.EditConfig(dir, j => j["r"] = 4);
        var ex = Refused(dir);
        Assert.Contains("v_proj.lora_", ex.Tensor);
        Assert.Contains("r = 4", ex.Message);
    }

    [Fact]
    public void LayerBeyondTheBaseModelIsRefused()
    {
        string dir = Write(targets: [LoraTargetModules.OProj], shapeFrom: _base with { NumHiddenLayers = _base.NumHiddenLayers + 1 });
        var ex = Refused(dir);
        Assert.Contains($"layers.{_base.NumHiddenLayers}.", ex.Tensor);
        Assert.Contains($"layer index {_base.NumHiddenLayers} is beyond the base model's {_base.NumHiddenLayers} layers", ex.Message);
    }

    [Fact]
    public void LayersToTransformBeyondTheBaseModelIsRefused()
    {
        string dir = Write();
        AdapterTestFiles.EditConfig(dir, j => j["layers_to_transform"] = new JsonArray(0, 5));
        var ex = Refused(dir);
        Assert.Contains("layers_to_transform names layer 5", ex.Message);
    }

    [Fact]
    public void RankPatternIsRefused()
    {
        string dir = Write();
        AdapterTestFiles.EditConfig(dir, j => j["rank_pattern"] = new JsonObject { ["q_proj"] = 4 });
        Assert.Contains("rank_pattern", Refused(dir).Message);
    }

    [Fact]
    public void MissingDirectoryIsNamed()
    {
        string dir = _dir.File("nowhere");
        var ex = Refused(dir);
        Assert.Equal(dir, ex.File);
    }

    public void Dispose() => _dir.Dispose();
}

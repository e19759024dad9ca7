using System.Diagnostics;
using System.Text.Json.Nodes;
using OrleansLora.Engine.Adapters;
using OrleansLora.Engine.Checkpoints;
using OrleansLora.Engine.Models;
using OrleansLora.Engine.Tests.Support;
using static TorchSharp.torch;

namespace OrleansLora.Engine.Tests.Adapters;

/// <summary>
/// Weights that would poison every request on the adapter (NaN, infinities, magnitudes that overflow once
/// scaled) are refused at registration and at both loads, naming the tensor, the element and the value;
/// target_modules expressions cannot stall a load.
/// </summary>
public sealed class AdapterWeightRefusalTests(TinyModelFixture model) : IClassFixture<TinyModelFixture>, IDisposable
{
    private const string KeyA = "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight";
    private const string KeyB = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";
    private readonly TempDirectory _dir = new("olora-adapter-weights");
    private readonly ModelConfig _base = ModelConfig.Load(model.Path);

    /// <summary>Rank 4, alpha 8: lora_B is served times 2.</summary>
    private string Write()
    {
        string dir = _dir.File($"a{Guid.NewGuid():n}");
        PeftAdapterWriter.WriteRandom(_base, dir, 4, 8, [LoraTargetModules.QProj, LoraTargetModules.VProj], seed: 9);
        return dir;
    }

    private IEnumerable<(string Path, Action Load)> Loads(string dir) =>
    [
        ("Inspect", () => PeftAdapter.Inspect(dir, _base)),
        ("PeftAdapter.Load", () => PeftAdapter.Load(dir, _base).Dispose()),
        ("PreparedAdapter.Load bf16", () => PreparedAdapter.Load(dir, _base, ScalarType.BFloat16).Release()),
        ("PreparedAdapter.Load f32", () => PreparedAdapter.Load(dir, _base, ScalarType.Float32).Release()),
    ];

    private void RefusedEverywhere(string dir, string key, params string[] expected)
    {
        foreach (var (name, load) in Loads(dir))
        {
            var ex = Assert.Throws<ModelFormatException>(load);
            Assert.True(ex.Tensor == key, $"{name}: refused naming {ex.Tensor}, expected {key}: {ex.Message}");
            foreach (string part in expected)
                Assert.True(ex.Message.Contains(part, StringComparison.Ordinal), $"{name}: \"{part}\" not in: {ex.Message}");
        }
    }

    private void LoadsEverywhere(string dir)
    {
        foreach (var (_, load) in Loads(dir))
            load();
    }

    public static TheoryData<SafetensorsDtype, string, float, string> NonFinite => new()
    {
        { SafetensorsDtype.F32, KeyA, float.NaN, "NaN" },
        { SafetensorsDtype.F32, KeyB, float.PositiveInfinity, "+Infinity" },
        { SafetensorsDtype.BF16, KeyA, float.NegativeInfinity, "-Infinity" },
        { SafetensorsDtype.BF16, KeyB, float.NaN, "NaN" },
        { SafetensorsDtype.F16, KeyA, float.NaN, "NaN" },
        { SafetensorsDtype.F16, KeyB, float.NegativeInfinity, "-Infinity" },
        // 3e38 is finite in float32 and bfloat16 but far above the bound; float16 rounds it to +Infinity.
        { SafetensorsDtype.F32, KeyA, 3e38f, "3E+38" },
        { SafetensorsDtype.BF16, KeyB, -3e38f, "above the largest accepted weight magnitude 65504" },
        { SafetensorsDtype.F16, KeyA, 3e38f, "+Infinity" },
    };

    [Theory]
    [MemberData(nameof(NonFinite))]
    public void A_non_finite_or_huge_weight_is_refused_naming_tensor_element_and_value(SafetensorsDtype dtype, string key, float value, string shown)
    {
        string dir = Write();
        // Element 5 of [r = 4, in] (lora_A) is [0, 5]; of [out, r = 4] (lora_B) it is [1, 1].
        AdapterTestFiles.SetValue(dir, key, 5, value, dtype);
        RefusedEverywhere(dir, key, shown, key == KeyA ? "[0, 5]" : "[1, 1]");
    }

    [Fact]
    public void The_bound_applies_to_lora_B_with_the_scaling_folded_in()
    {
        // 40000 passes as lora_A; as lora_B it is served as 80000 (alpha / r = 2), above 65504.
        string a = Write();
        AdapterTestFiles.SetValue(a, KeyA, 3, 40000f);
        LoadsEverywhere(a);
        string b = Write();
        AdapterTestFiles.SetValue(b, KeyB, 3, 40000f);
        RefusedEverywhere(b, KeyB, "40000", "times the scaling lora_alpha / r = 2");
    }

    [Fact]
    public void The_bound_itself_and_denormals_load_and_the_bound_is_an_option()
    {
        string dir = Write();
        AdapterTestFiles.SetValue(dir, KeyA, 0, 65504f);
        LoadsEverywhere(dir);
        AdapterTestFiles.SetValue(dir, KeyA, 1, 1e-40f); // a denormal: finite, tiny
        LoadsEverywhere(dir);
        var strict = new AdapterLoadOptions { MaxAbsWeight = 100f };
        var ex = Assert.Throws<ModelFormatException>(() => PeftAdapter.Inspect(dir, _base, strict));
        Assert.Contains("65504", ex.Message);
        Assert.Equal(KeyA, ex.Tensor);
    }

    [Fact]
    public void Registration_checks_the_weights_of_a_file_whose_header_is_valid()
    {
        // Inspect reads the weights now (streamed): a NaN at the last element of the last tensor is found.
        string dir = Write();
        var info = PeftAdapter.Inspect(dir, _base);
        using (var file = SafetensorsFile.Open(Path.Combine(dir, PeftAdapter.WeightsFileName)))
        {
            var last = file.Tensors.MaxBy(t => t.DataOffset)!;
            AdapterTestFiles.SetValue(dir, last.Name, last.ElementCount - 1, float.NaN);
            var ex = Assert.Throws<ModelFormatException>(() => PeftAdapter.Inspect(dir, _base));
            Assert.Equal(last.Name, ex.Tensor);
        }
        Assert.Equal(4, info.Rank);
    }

    [Fact]
    public void A_catastrophically_backtracking_target_modules_expression_is_refused_quickly()
    {
        string dir = Write();
        var clock = Stopwatch.StartNew();
        // Linear-time matching (NonBacktracking): matches no module, refused as such at once.
        AdapterTestFiles.EditConfig(dir, j => j["target_modules"] = "(.*.*.*.*.*.*.*.*.*.*)*x");
        var none = Assert.Throws<ModelFormatException>(() => PeftAdapter.Inspect(dir, _base));
        Assert.Contains("target_modules", none.Message);
        Assert.Contains("matches none", none.Message);
        // A lookahead forces the backtracking engine: the time budget ends it.
        AdapterTestFiles.EditConfig(dir, j => j["target_modules"] = "(?=m)(.*.*.*.*.*.*.*.*.*.*.*.*)*x");
        var slow = Assert.Throws<ModelFormatException>(() => PeftAdapter.Inspect(dir, _base));
        Assert.Contains("target_modules", slow.Message);
        Assert.Contains("took more than 1 s", slow.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"the two refusals took {clock.Elapsed}");
    }

    [Fact]
    public void Target_modules_expressions_that_need_backtracking_still_match()
    {
        string dir = Write();
        AdapterTestFiles.EditConfig(dir, j => j["target_modules"] = @"(?!.*k_proj).*\.(q_proj|k_proj|v_proj)");
        Assert.Equal([LoraTargetModules.QProj, LoraTargetModules.VProj], PeftAdapter.Inspect(dir, _base).TargetModules);
        AdapterTestFiles.EditConfig(dir, j => j["target_modules"] = @".*\.(q|v)_proj");
        Assert.Equal([LoraTargetModules.QProj, LoraTargetModules.VProj], PeftAdapter.Inspect(dir, _base).TargetModules);
    }

    [Theory]
    [InlineData("(", "not a valid regular expression")]
    [InlineData("q_proj", "matches none")]
    [InlineData(null, "at most 4096")]
    public void Invalid_or_oversized_target_modules_expressions_are_refused(string? pattern, string reason)
    {
        string dir = Write();
        AdapterTestFiles.EditConfig(dir, j => j["target_modules"] = pattern ?? ".*" + new string('a', 5000));
        var ex = Assert.Throws<ModelFormatException>(() => PeftAdapter.Inspect(dir, _base));
        Assert.Contains("target_modules", ex.Message);
        Assert.Contains(reason, ex.Message);
        Assert.True(ex.Message.Length < 2000, "the message quotes a shortened expression");
    }

    [Fact]
    public void Lists_of_module_names_are_unaffected()
    {
        string dir = Write();
        AdapterTestFiles.EditConfig(dir, j => j["target_modules"] = new JsonArray("q_proj", "v_proj"));
        LoadsEverywhere(dir);
    }

    public void Dispose() => _dir.Dispose();
}
